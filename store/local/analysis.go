package local

import (
	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// Analysis is the keyword analysis of the local store's body fields, for
// stores that keep their postings elsewhere (the Qdrant store) and must make
// the same terms from the same text, so that one query means the same on
// either store. A document's body is analysed in the field of its language
// (English, Indonesian, CJK, or neutral); a query in each field it searches.
type Analysis struct {
	body *bodyAnalysis
}

// NewAnalysis returns the body fields' analysis.
func NewAnalysis() (*Analysis, error) {
	b, err := newBodyAnalysis(newMapping())
	if err != nil {
		return nil, err
	}
	return &Analysis{body: b}, nil
}

// Name names the analysis; an index records it and refuses another.
func (a *Analysis) Name() string { return bodyAnalyzer }

// Fields lists the body fields, English first.
func Fields() []string {
	out := make([]string, len(languageFields))
	for i, lf := range languageFields {
		out[i] = lf.name
	}
	return out
}

// DocumentField returns the field d's body is analysed in. A document that
// names no language gets the detected one as its Language when detection
// is sure, as the local store does.
func (a *Analysis) DocumentField(d *cari.Document) string { return a.body.documentField(d) }

// FieldTerms are a query's terms as one body field analyses them.
type FieldTerms struct {
	Field string
	Terms []string
}

// QueryFields returns the fields a query searches (its detected language's
// and the neutral one, or every field when detection is unsure) and its
// terms in each, the query's own language first. A query with more than
// MaxQueryTerms terms in a field is refused, as the local store refuses it.
func (a *Analysis) QueryFields(text string) ([]FieldTerms, error) {
	fts := a.body.queryFields(text)
	if err := checkQueryTerms(fts); err != nil {
		return nil, err
	}
	out := make([]FieldTerms, len(fts))
	for i, ft := range fts {
		out[i] = FieldTerms{Field: ft.field, Terms: termStrings(ft.terms)}
	}
	return out, nil
}

// Token is one analysed term with its position (1 for the first token; a
// stop word removed leaves a gap) and its byte offset in the text.
type Token struct {
	Term     string
	Position int
	Start    int
}

// Tokens analyses text as field does.
func (a *Analysis) Tokens(field, text string) []Token {
	an, ok := a.body.analyzers[field]
	if !ok {
		return nil
	}
	stream := an.Analyze([]byte(text))
	out := make([]Token, len(stream))
	for i, t := range stream {
		out[i] = Token{Term: string(t.Term), Position: t.Position, Start: t.Start}
	}
	return out
}

// Terms returns the terms of text analysed as a query in its detected
// language, as local.Store.Terms does.
func (a *Analysis) Terms(text string) []string {
	return termStrings(a.body.queryTerms(text))
}

// TermsIn returns the terms of text analysed as a document in language
// (a BCP 47 tag, "" for unknown) is.
func (a *Analysis) TermsIn(text, language string) []string {
	return termStrings(a.body.terms(fieldForLanguage(language), text))
}

// Body is the text the keyword index analyses for a document: its title and
// text on separate lines.
func Body(title, text string) string {
	if title == "" {
		return text
	}
	return title + "\n" + text
}

// CheckPhrases refuses a filter phrase that keeps no term in some body
// field's analysis (only stop words or punctuation), naming the filter
// field: it would match nothing in that language's documents.
func (a *Analysis) CheckPhrases(f store.Filter) error { return a.body.checkPhrases(f) }

// DocText is a stored document's ID, title and text.
type DocText struct {
	ID, Title, Text string
	// Elsewhere marks a document analysed in another field: it matches
	// nothing in this one (its title still counts in the average title
	// length, as on the local store).
	Elsewhere bool
}

// MatchFeatures computes the store.MatchFeatures of docs for query the way
// the local store does from its postings, here from the documents' titles
// and texts analysed in field, and with the same code once the matches are
// found. idf gives each distinct query term's IDF; avgdl is the field's
// average analysed length.
func (a *Analysis) MatchFeatures(field, query string, docs []DocText, idf func(term string) float64, bm BM25, avgdl float64) map[string]store.MatchFeatures {
	qterms := a.body.terms(field, query)
	terms := distinctTerms(qterms)
	pairs := queryPairs(qterms, terms)
	idfs := make([]float64, len(terms))
	var idfSum float64
	for i, t := range terms {
		idfs[i] = idf(string(t.text))
		idfSum += idfs[i]
	}
	cands := make([]*candidate, len(docs))
	for i, d := range docs {
		cands[i] = a.candidate(field, d, terms, idfs, bm, avgdl)
	}
	out := make(map[string]store.MatchFeatures, len(docs))
	finishFeatures(out, cands, terms, pairs, idfs, idfSum, bm, func(title string) int { return len(a.body.terms(field, title)) })
	return out
}

// candidate collects a document's matches of terms from its text, as the
// local store collects them from its postings.
func (a *Analysis) candidate(field string, d DocText, terms []queryTerm, idfs []float64, bm BM25, avgdl float64) *candidate {
	c := &candidate{id: d.ID, title: d.Title, field: field, titleBytes: len(d.Title)}
	if d.Elsewhere {
		return c
	}
	tokens := a.Tokens(field, Body(d.Title, d.Text))
	for ti, t := range terms {
		m := termMatch{term: ti}
		for _, tok := range tokens {
			if tok.Term == string(t.text) {
				m.positions = append(m.positions, tok.Position)
				if tok.Start < c.titleBytes {
					m.inTitle = true
					m.titleFreq++
				}
			}
		}
		if len(m.positions) == 0 {
			continue
		}
		// The local store learns the length from the postings of a
		// matching term, so a document that matches nothing has none.
		c.length = float64(len(tokens))
		c.matches = append(c.matches, m)
		c.bm25 += float64(t.count) * bm.TermScore(idfs[ti], float64(len(m.positions)), c.length, avgdl)
	}
	return c
}

// DomainKeys returns the filter keys of a domain: the domain and each parent
// with at least two labels, so that a filter on a parent matches it.
func DomainKeys(domain string) []string { return domainKeys(domain) }

// LanguageKeys returns the filter keys of a BCP 47 tag: the tag and each
// shorter prefix, lower-cased, so that a filter on "en" matches "en-GB".
func LanguageKeys(tag string) []string { return languageKeys(tag) }

// NormalizeLanguage brings a language filter value to the form of
// LanguageKeys.
func NormalizeLanguage(tag string) string { return normalizeLanguage(tag) }
