package local

import (
	"fmt"

	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
	textanalysis "github.com/cari-search/cari/indexer/analysis"
)

// Analysis is the keyword analysis of the local store's body field, for
// stores that keep their postings elsewhere (the Qdrant store) and must make
// the same terms from the same text, so that one query means the same on
// either store.
type Analysis struct {
	name     string
	analyzer analysis.Analyzer
}

// NewAnalysis returns the analysis of the English body field, which the
// Qdrant store applies to documents of every language for now.
func NewAnalysis() (*Analysis, error) {
	a := newMapping().AnalyzerNamed(textanalysis.EnglishAnalyzer)
	if a == nil {
		return nil, fmt.Errorf("analyzer %q is not registered", textanalysis.EnglishAnalyzer)
	}
	return &Analysis{name: textanalysis.EnglishAnalyzer, analyzer: a}, nil
}

// Name names the analyzer; an index records it and refuses another.
func (a *Analysis) Name() string { return a.name }

// Token is one analyzed term with its position (1 for the first token; a
// stop word removed leaves a gap) and its byte offset in the text.
type Token struct {
	Term     string
	Position int
	Start    int
}

// Tokens analyzes text.
func (a *Analysis) Tokens(text string) []Token {
	stream := a.analyzer.Analyze([]byte(text))
	out := make([]Token, len(stream))
	for i, t := range stream {
		out[i] = Token{Term: string(t.Term), Position: t.Position, Start: t.Start}
	}
	return out
}

// Terms returns the analyzed terms of text in order, repeats kept.
func (a *Analysis) Terms(text string) []string {
	stream := a.analyzer.Analyze([]byte(text))
	out := make([]string, len(stream))
	for i, t := range stream {
		out[i] = string(t.Term)
	}
	return out
}

// Body is the text the keyword index analyzes for a document: its title and
// text on separate lines.
func Body(title, text string) string {
	if title == "" {
		return text
	}
	return title + "\n" + text
}

// MatchFeatures computes a document's indexer.MatchFeatures for query the
// way the local store does from its postings, here from the document's
// title and text. idf gives each distinct query term's IDF in the
// collection; avgdl is the average analyzed document length BM25 uses.
func (a *Analysis) MatchFeatures(query, title, text string, idf func(term string) float64, bm BM25, avgdl float64) indexer.MatchFeatures {
	all := a.analyzer.Analyze([]byte(query))
	qterms := make([][]byte, len(all))
	for i, t := range all {
		qterms[i] = t.Term
	}
	terms := distinctTerms(qterms)
	pairs := queryPairs(qterms, terms)
	idfs := make([]float64, len(terms))
	var idfSum float64
	for i, t := range terms {
		idfs[i] = idf(string(t.text))
		idfSum += idfs[i]
	}
	tokens := a.Tokens(Body(title, text))
	c := &candidate{titleBytes: len(title)}
	for ti, t := range terms {
		m := termMatch{term: ti}
		for _, tok := range tokens {
			if tok.Term == string(t.text) {
				m.positions = append(m.positions, tok.Position)
				if tok.Start < c.titleBytes {
					m.inTitle = true
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
	f := c.features(idfs, idfSum)
	f.OrderedPairs, f.UnorderedPairs = c.pairFeatures(pairs, idfs)
	return f
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

// CheckPhrases refuses a filter phrase that analyzes to no terms (only stop
// words or punctuation), naming the filter field: no index can match it.
func (a *Analysis) CheckPhrases(f indexer.Filter) error {
	for _, c := range []struct {
		field   string
		phrases []string
	}{{"filters.include_text", f.IncludeText}, {"filters.exclude_text", f.ExcludeText}} {
		for i, p := range c.phrases {
			if len(a.analyzer.Analyze([]byte(p))) == 0 {
				return &cari.FieldError{Field: fmt.Sprintf("%s[%d]", c.field, i),
					Reason: fmt.Sprintf("%q has only stop words or punctuation, which the keyword index does not keep; add a content word", p)}
			}
		}
	}
	return nil
}
