package local

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/cari-search/cari/store"

	"github.com/blevesearch/bleve/v2"
	blevean "github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis"
)

// Field names in the keyword index.
const (
	// The analysed body (title + text) of a document sits in the field of
	// its analysis language, one field per language, so that each field's
	// BM25 statistics describe documents analysed alike. English keeps the
	// name "body" it had before there were others.
	fieldBody        = "body"         // English
	fieldBodyID      = "body_id"      // Indonesian (and Malay)
	fieldBodyCJK     = "body_cjk"     // Chinese, Japanese, Korean
	fieldBodyNeutral = "body_neutral" // every other language, and unknown
	fieldBodyField   = "body_field"   // stored: which of the above holds the body

	fieldTitle     = "title"
	fieldText      = "text"
	fieldURL       = "url"
	fieldAuthor    = "author"
	fieldPublished = "published" // indexed for range filters, clamped to bleve's range
	fieldCrawled   = "crawled"
	// The exact times, stored as RFC 3339 text: bleve's date fields hold
	// only 1677-2262 (int64 nanoseconds), and a document may be older.
	fieldPublishedAt = "published_at"
	fieldCrawledAt   = "crawled_at"
	fieldLanguage    = "language"
	fieldDomain      = "domain"
	fieldHash        = "content_hash"
	fieldBodyLen     = "body_len" // analyzed length of body, for BM25 statistics
	fieldChunks      = "chunks"   // passage offsets, "start-end start-end ..."

	// Filter keys: a document's domain and language indexed with every
	// parent, so that a filter on "example.com" matches "docs.example.com"
	// and one on "en" matches "en-GB".
	fieldDomainKeys   = "domain_keys"
	fieldLanguageKeys = "language_keys"
)

// indonesian is how this process analyses Indonesian: the stemmer needs the
// root words of Debian's hunspell-id, read where the package installs them
// (Cari does not ship them: LGPL-3). Without them Indonesian is analysed
// without stemming. Fixed at start-up, like the rest of the analysis.
var indonesian = analysis.DefaultIndonesianOptions()

// bodyAnalyzer names the analysis of the body fields; each generation's
// manifest records it, and a generation built with another (including
// another Indonesian dictionary, or ASCII folding, the default before
// issue 13's development set dropped it) is refused. English is bleve's
// "en" (possessive removal, lower case, English stop words, Porter), which
// measured best on scifact/train among bleve's English chains
// (docs/EVALUATION.md); see languageFields for the others.
var bodyAnalyzer = analyzerName(indonesian)

// analyzerName is the analysis a generation records when Indonesian is
// analysed as id. The Indonesian options describe themselves in the same
// form whatever the default, so a generation's record stays comparable.
func analyzerName(id analysis.IndonesianOptions) string {
	return "multilingual-1: en, id (" + id.String() + "), cjk, neutral"
}

// languageField is one analysed body field and its analyzer.
type languageField struct {
	name     string
	analyzer string
}

// languageFields are the body fields, English first.
var languageFields = []languageField{
	{fieldBody, analysis.EnglishAnalyzer},
	{fieldBodyID, analysis.IndonesianAnalyzer},
	{fieldBodyCJK, analysis.CJKAnalyzer},
	{fieldBodyNeutral, analysis.NeutralAnalyzer},
}

// fieldForLanguage returns the body field of a document in the language
// with BCP 47 tag tag: its primary subtag decides.
func fieldForLanguage(tag string) string {
	primary, _, _ := strings.Cut(normalizeLanguage(tag), "-")
	switch primary {
	case analysis.English:
		return fieldBody
	case analysis.Indonesian, "in", "ms": // "in" is Indonesian's withdrawn code; Malay shares the morphology
		return fieldBodyID
	case analysis.Chinese, analysis.Japanese, analysis.Korean:
		return fieldBodyCJK
	}
	return fieldBodyNeutral
}

// newMapping returns the index mapping of one generation: one document type,
// BM25 scoring, and no dynamic fields so that nothing unplanned is indexed.
func newMapping() *mapping.IndexMappingImpl {
	return newMappingWith(indonesian)
}

func newMappingWith(id analysis.IndonesianOptions) *mapping.IndexMappingImpl {
	m := bleve.NewIndexMapping()
	m.ScoringModel = index.BM25Scoring
	m.DefaultAnalyzer = analysis.EnglishAnalyzer
	m.IndexDynamic = false
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	if err := analysis.AddAnalyzers(m, id); err != nil {
		// Only a name defined twice fails, and the names are constants.
		panic(err)
	}

	doc := bleve.NewDocumentStaticMapping()
	for _, lf := range languageFields {
		body := bleve.NewTextFieldMapping()
		body.Analyzer = lf.analyzer
		body.Store = false
		body.IncludeInAll = false
		// Term vectors carry positions: phrase filters (include_text) need them.
		body.IncludeTermVectors = true
		body.DocValues = false
		doc.AddFieldMappingsAt(lf.name, body)
	}

	for _, name := range []string{fieldTitle, fieldText, fieldAuthor, fieldHash, fieldDomain, fieldLanguage, fieldPublishedAt, fieldCrawledAt, fieldChunks, fieldBodyField} {
		doc.AddFieldMappingsAt(name, storedOnly())
	}
	for _, name := range []string{fieldDomainKeys, fieldLanguageKeys, fieldURL} {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = name == fieldURL // the URL is also looked up (GetContents by URL)
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = false
		doc.AddFieldMappingsAt(name, f)
	}
	for _, name := range []string{fieldPublished, fieldCrawled} {
		f := bleve.NewDateTimeFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		f.DocValues = false
		doc.AddFieldMappingsAt(name, f)
	}
	n := bleve.NewNumericFieldMapping()
	n.Index = false
	n.Store = true
	n.IncludeInAll = false
	n.DocValues = false
	doc.AddFieldMappingsAt(fieldBodyLen, n)

	m.DefaultMapping = doc
	return m
}

func storedOnly() *mapping.FieldMapping {
	f := bleve.NewTextFieldMapping()
	f.Index = false
	f.Store = true
	f.IncludeInAll = false
	f.IncludeTermVectors = false
	f.DocValues = false
	return f
}

// bodyAnalysis analyses document bodies and queries by language, with the
// analyzers of one mapping. It is safe for concurrent use.
type bodyAnalysis struct {
	analyzers map[string]blevean.Analyzer // by body field
}

func newBodyAnalysis(m mapping.IndexMapping) (*bodyAnalysis, error) {
	a := &bodyAnalysis{analyzers: map[string]blevean.Analyzer{}}
	for _, lf := range languageFields {
		an := m.AnalyzerNamed(lf.analyzer)
		if an == nil {
			return nil, fmt.Errorf("analyzer %q of field %s cannot be built", lf.analyzer, lf.name)
		}
		a.analyzers[lf.name] = an
	}
	return a, nil
}

// detector returns the language detector, loading its models (about 0.3 s
// and 32 MiB) on first use rather than when the store opens: a command
// that only reads (stats, verify, gc) and an index in one language, whose
// queries need no detection, never pay for them.
func (a *bodyAnalysis) detector() *analysis.Detector { return analysis.NewDetector() }

// documentField returns the body field of d. A document that names no
// language gets the detected one as its Language when detection is sure, so
// that the language filter finds it; when detection is unsure (a short
// text) the document is still analysed as the likeliest language, which
// for a short English or Indonesian text is better than no stemming at all.
// Only a text with no letters the detector knows gets the neutral field.
func (a *bodyAnalysis) documentField(d *cari.Document) string {
	if d.Language != "" {
		return fieldForLanguage(d.Language)
	}
	det := a.detector().DetectDocument(d.Title, d.Text)
	if det.Sure {
		d.Language = det.Language
	}
	return fieldForLanguage(det.Language)
}

// documentFields returns the body field of each entry (documentField, which
// also records a sure detection as the document's Language), detecting
// languages on every core. A write computes them once, before it takes the
// lock, for every generation it writes to.
func (a *bodyAnalysis) documentFields(entries []store.Entry) []string {
	fields := make([]string, len(entries))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(entries))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(entries); i += workers {
				fields[i] = a.documentField(&entries[i].Doc)
			}
		})
	}
	wg.Wait()
	return fields
}

// terms analyses text as field does. Repeated terms stay repeated: a term
// the user wrote twice counts twice, as in Lucene.
func (a *bodyAnalysis) terms(field, text string) [][]byte {
	tokens := a.analyzers[field].Analyze([]byte(text))
	out := make([][]byte, len(tokens))
	for i, t := range tokens {
		out[i] = t.Term
	}
	return out
}

// fieldTerms are a query's terms as one body field analyses them.
type fieldTerms struct {
	field string
	terms [][]byte
}

// queryFields returns the fields a query searches and its terms in each.
// A query whose language is detected with confidence searches that
// language's field and the neutral one (documents of no known language);
// an unsure query searches every field, each with its own analysis, so a
// short query or a name finds documents in any language. The query's own
// language comes first.
func (a *bodyAnalysis) queryFields(text string) []fieldTerms {
	return a.queryFieldsAmong(text, nil)
}

// queryFieldsAmong is queryFields knowing which fields hold documents
// (populated; nil means all may). An index in one language needs no
// detection: the query is analysed as that language. A sure query whose
// fields are all empty searches the populated ones instead, so a query
// taken for the wrong language with confidence still finds something.
func (a *bodyAnalysis) queryFieldsAmong(text string, populated map[string]bool) []fieldTerms {
	has := func(f string) bool { return populated == nil || populated[f] }
	var fields []string
	if populated != nil && len(populated) <= 1 {
		for f := range populated {
			fields = append(fields, f)
		}
	} else {
		det := a.detector().DetectQuery(text)
		first := fieldForLanguage(det.Language)
		if det.Sure {
			for _, f := range []string{first, fieldBodyNeutral} {
				if has(f) && !slices.Contains(fields, f) {
					fields = append(fields, f)
				}
			}
		}
		if len(fields) == 0 {
			if has(first) {
				fields = append(fields, first)
			}
			for _, lf := range languageFields {
				if lf.name != first && has(lf.name) {
					fields = append(fields, lf.name)
				}
			}
		}
	}
	out := make([]fieldTerms, 0, len(fields))
	for _, f := range fields {
		if ts := a.terms(f, text); len(ts) > 0 {
			out = append(out, fieldTerms{f, ts})
		}
	}
	return out
}

// keepsInEveryField reports whether text keeps at least one term in every
// body field's analysis: a phrase of stop words alone would match nothing in
// some languages' documents.
func (a *bodyAnalysis) keepsInEveryField(text string) bool {
	for _, lf := range languageFields {
		if len(a.analyzers[lf.name].Analyze([]byte(text))) == 0 {
			return false
		}
	}
	return true
}
