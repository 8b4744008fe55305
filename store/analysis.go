package store

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	blevean "github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis"
)

// Analysis is the keyword analysis of the body fields, the one both stores
// make their terms with from the same text, so that one query means the
// same on either. A document's body is analysed in the field of its
// language (English, Indonesian, CJK, or neutral); a query in each field it
// searches. It is safe for concurrent use.
type Analysis struct {
	name      string
	analyzers map[string]blevean.Analyzer // by body field
	questions map[string]bool             // IndonesianQuestionWords as the Indonesian field analyses them
}

// IndonesianQuestionWords are dropped from a query's terms in the
// Indonesian field (documents keep them). Tala's stop list, applied before
// stemming, catches apa or siapa but not dimanakah or kapankah, which stem
// to mana and kapan; a question's question word matches no answer
// paragraph for a reason, and only adds noise to its ranking. Chosen on
// tydiqa-id/train (docs/EVALUATION.md); tests swap it.
var IndonesianQuestionWords = []string{
	"apa", "apakah", "siapa", "siapakah", "kapan", "kapankah", "mana", "manakah",
	"dimana", "dimanakah", "darimana", "darimanakah", "kemana", "kemanakah",
	"berapa", "berapakah", "mengapa", "mengapakah", "kenapa", "kenapakah",
	"bagaimana", "bagaimanakah", "bilamana",
}

// NewAnalysis returns the body fields' analysis with this build's
// Indonesian options (analysis.DefaultIndonesianOptions).
func NewAnalysis() (*Analysis, error) {
	id := analysis.DefaultIndonesianOptions()
	m := bleve.NewIndexMapping()
	if err := analysis.AddAnalyzers(m, id); err != nil {
		return nil, err
	}
	return AnalysisOf(m, AnalyzerName(id))
}

// AnalysisOf returns the body fields' analysis with the analyzers of m, a
// mapping analysis.AddAnalyzers defined them in, under name (AnalyzerName
// of the options it was given): a store whose index mapping holds the
// analyzers analyses with that index's own, built once.
func AnalysisOf(m mapping.IndexMapping, name string) (*Analysis, error) {
	a := &Analysis{name: name, analyzers: map[string]blevean.Analyzer{}}
	for _, f := range bodyFields {
		an := m.AnalyzerNamed(f.analyzer)
		if an == nil {
			return nil, fmt.Errorf("analyzer %q of field %s cannot be built", f.analyzer, f.name)
		}
		a.analyzers[f.name] = an
	}
	a.questions = map[string]bool{}
	for _, t := range a.Analyze(FieldBodyID, strings.Join(IndonesianQuestionWords, " ")) {
		a.questions[string(t)] = true
	}
	return a, nil
}

// Name names the analysis; an index records it and refuses another.
func (a *Analysis) Name() string { return a.name }

// detector returns the language detector, loading its models (about 0.3 s
// and 32 MiB) on first use rather than when a store opens: a command that
// only reads (stats, verify, gc) and an index in one language, whose
// queries need no detection, never pay for them.
func (a *Analysis) detector() *analysis.Detector { return analysis.NewDetector() }

// DocumentField returns the body field of d. A document that names no
// language gets the detected one as its Language when detection is sure, so
// that the language filter finds it; when detection is unsure (a short
// text) the document is still analysed as the likeliest language, which
// for a short English or Indonesian text is better than no stemming at all.
// Only a text with no letters the detector knows gets the neutral field.
func (a *Analysis) DocumentField(d *cari.Document) string {
	if d.Language != "" {
		return FieldForLanguage(d.Language)
	}
	det := a.detector().DetectDocument(d.Title, d.Text)
	if det.Sure {
		d.Language = det.Language
	}
	return FieldForLanguage(det.Language)
}

// DocumentFields returns the body field of each entry (DocumentField, which
// also records a sure detection as the document's Language), detecting
// languages on every core: a store computes them once per write, before it
// takes a lock.
func (a *Analysis) DocumentFields(entries []Entry) []string {
	fields := make([]string, len(entries))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(entries))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(entries); i += workers {
				fields[i] = a.DocumentField(&entries[i].Doc)
			}
		})
	}
	wg.Wait()
	return fields
}

// Analyze returns the terms of text as field analyses it. Repeated terms
// stay repeated: a term the user wrote twice counts twice, as in Lucene.
func (a *Analysis) Analyze(field, text string) [][]byte {
	tokens := a.analyzers[field].Analyze([]byte(text))
	out := make([][]byte, len(tokens))
	for i, t := range tokens {
		out[i] = t.Term
	}
	return out
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
	an, ok := a.analyzers[field]
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
// language.
func (a *Analysis) Terms(text string) []string {
	return termStrings(a.Analyze(FieldForLanguage(a.detector().DetectQuery(text).Language), text))
}

// TermsIn returns the terms of text analysed as a document in language
// (a BCP 47 tag, "" for unknown) is: highlights compare a query with a
// document's sentences in the document's analysis.
func (a *Analysis) TermsIn(text, language string) []string {
	return termStrings(a.Analyze(FieldForLanguage(language), text))
}

func termStrings(terms [][]byte) []string {
	out := make([]string, len(terms))
	for i, t := range terms {
		out[i] = string(t)
	}
	return out
}

// FieldTerms are a query's terms as one body field analyses them.
type FieldTerms struct {
	Field string
	Terms []string
}

// QueryFields returns the fields a query searches (its detected language's
// and the neutral one, or every field when detection is unsure) and its
// terms in each, the query's own language first, each field's cut to its
// first MaxQueryTerms (LimitQueryTerms).
func (a *Analysis) QueryFields(text string) ([]FieldTerms, error) {
	return LimitQueryTerms(a.QueryFieldsAmong(text, nil)), nil
}

// QueryFieldsAmong is QueryFields knowing which fields hold documents
// (populated; nil means all may). An index in one language needs no
// detection: the query is analysed as that language. A query whose
// language is detected with confidence searches that language's field and
// the neutral one (documents of no known language); an unsure query
// searches every field, each with its own analysis, so a short query or a
// name finds documents in any language. A sure query whose fields are all
// empty searches the populated ones instead, so a query taken for the
// wrong language with confidence still finds something. Fields where the
// query keeps no term are left out; the caller bounds the terms
// (LimitQueryTerms).
func (a *Analysis) QueryFieldsAmong(text string, populated map[string]bool) []FieldTerms {
	fields := a.queryFieldNames(text, populated)
	out := make([]FieldTerms, 0, len(fields))
	for _, f := range fields {
		ts := a.Analyze(f, text)
		if f == FieldBodyID {
			ts = slices.DeleteFunc(ts, func(t []byte) bool { return a.questions[string(t)] })
		}
		if len(ts) > 0 {
			out = append(out, FieldTerms{f, termStrings(ts)})
		}
	}
	return out
}

// queryFieldNames returns the fields a query searches, as QueryFieldsAmong
// chooses them.
func (a *Analysis) queryFieldNames(text string, populated map[string]bool) []string {
	has := func(f string) bool { return populated == nil || populated[f] }
	var fields []string
	if populated != nil && len(populated) <= 1 {
		for f := range populated {
			fields = append(fields, f)
		}
		return fields
	}
	det := a.detector().DetectQuery(text)
	first := FieldForLanguage(det.Language)
	if det.Sure {
		for _, f := range []string{first, FieldBodyNeutral} {
			if has(f) && !slices.Contains(fields, f) {
				fields = append(fields, f)
			}
		}
	}
	if len(fields) == 0 {
		if has(first) {
			fields = append(fields, first)
		}
		for _, f := range bodyFields {
			if f.name != first && has(f.name) {
				fields = append(fields, f.name)
			}
		}
	}
	return fields
}

// LimitQueryTerms cuts each field's terms to the first MaxQueryTerms: each
// field opens a posting list per term, so all fields are cut, not only the
// first (the neutral analysis keeps stop words). A long query (a pasted
// paragraph, a verbose topic) is then searched by its beginning, as an
// embedder reads only its first tokens, rather than refused by the keyword
// side and accepted by the vector side.
func LimitQueryTerms(fields []FieldTerms) []FieldTerms {
	for i, f := range fields {
		if len(f.Terms) > MaxQueryTerms {
			fields[i].Terms = f.Terms[:MaxQueryTerms]
		}
	}
	return fields
}

// CheckPhrases refuses a filter phrase that keeps no term in some body
// field's analysis (only stop words or punctuation), naming the filter
// field: the index cannot match it, and silently matching nothing (include)
// or everything (exclude) in that language's documents would be a wrong
// answer.
func (a *Analysis) CheckPhrases(f Filter) error {
	for _, c := range []struct {
		field   string
		phrases []string
	}{{"filters.include_text", f.IncludeText}, {"filters.exclude_text", f.ExcludeText}} {
		for i, p := range c.phrases {
			if !a.keepsInEveryField(p) {
				return &cari.FieldError{Field: fmt.Sprintf("%s[%d]", c.field, i),
					Reason: fmt.Sprintf("%q has only stop words (English or Indonesian) or punctuation, which the keyword index does not keep; add a content word", p)}
			}
		}
	}
	return nil
}

// keepsInEveryField reports whether text keeps at least one term in every
// body field's analysis: a phrase of stop words alone would match nothing in
// some languages' documents.
func (a *Analysis) keepsInEveryField(text string) bool {
	for _, f := range bodyFields {
		if len(a.analyzers[f.name].Analyze([]byte(text))) == 0 {
			return false
		}
	}
	return true
}
