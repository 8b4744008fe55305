package local

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/store"
)

// Field names in the keyword index.
const (
	// The analysed body (title + text) of a document sits in the body field
	// of its analysis language (store.Fields); this stored field says which.
	fieldBodyField = "body_field"

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
	// fieldFingerprint is store.Fingerprint of what was written, so that
	// writing the same document again is a no-op. Documents stored before
	// it existed lack it and are replaced once.
	fieldFingerprint = "fingerprint"

	// Filter keys: a document's domain and language indexed with every
	// parent, so that a filter on "example.com" matches "docs.example.com"
	// and one on "en" matches "en-GB".
	fieldDomainKeys   = "domain_keys"
	fieldLanguageKeys = "language_keys"

	// fieldCategory is the document's category (analysis/category),
	// indexed as one keyword for the category filter. Generations made
	// before it existed lack it in their mapping (generation.categories).
	fieldCategory = "category"
)

// indonesian is how this process analyses Indonesian: the stemmer needs the
// root words of Debian's hunspell-id, read where the package installs them
// (Cari does not ship them: LGPL-3). Without them Indonesian is analysed
// without stemming. Fixed at start-up, like the rest of the analysis.
var indonesian = analysis.DefaultIndonesianOptions()

// bodyAnalyzer names the analysis of the body fields; each generation's
// manifest records it, and a generation built with another is refused
// (store.AnalyzerName). Tests swap it with indonesian.
var bodyAnalyzer = store.AnalyzerName(indonesian)

// newMapping returns the index mapping of one generation: one document type,
// BM25 scoring, and no dynamic fields so that nothing unplanned is indexed.
func newMapping() *mapping.IndexMappingImpl {
	return newMappingWith(indonesian)
}

// storeCategories, when false, makes generations as Cari made them
// before categories were stored; tests of such generations clear it.
var storeCategories = true

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
	for _, field := range store.Fields() {
		body := bleve.NewTextFieldMapping()
		body.Analyzer = store.FieldAnalyzer(field)
		body.Store = false
		body.IncludeInAll = false
		// Term vectors carry positions: phrase filters (include_text) need them.
		body.IncludeTermVectors = true
		body.DocValues = false
		doc.AddFieldMappingsAt(field, body)
	}

	for _, name := range []string{fieldTitle, fieldText, fieldAuthor, fieldHash, fieldDomain, fieldLanguage, fieldPublishedAt, fieldCrawledAt, fieldChunks, fieldBodyField, fieldFingerprint} {
		doc.AddFieldMappingsAt(name, storedOnly())
	}
	keywords := []string{fieldDomainKeys, fieldLanguageKeys, fieldURL}
	if storeCategories {
		keywords = append(keywords, fieldCategory)
	}
	for _, name := range keywords {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		// The URL is also looked up (GetContents by URL), the category
		// returned with the document.
		f.Store = name == fieldURL || name == fieldCategory
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
