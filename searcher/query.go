package searcher

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis/category"
	"github.com/cari-search/cari/store"
)

// Type is the kind of retrieval a search runs.
type Type int

// Search types. TypeAuto lets the searcher choose per query.
const (
	TypeAuto Type = iota
	TypeKeyword
	TypeNeural
	TypeHybrid
)

func (t Type) String() string {
	switch t {
	case TypeAuto:
		return "auto"
	case TypeKeyword:
		return "keyword"
	case TypeNeural:
		return "neural"
	case TypeHybrid:
		return "hybrid"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// ParseType parses a search type name as the CLI and the HTTP API write it.
func ParseType(s string) (Type, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return TypeAuto, nil
	case "keyword":
		return TypeKeyword, nil
	case "neural", "vector":
		return TypeNeural, nil
	case "hybrid":
		return TypeHybrid, nil
	}
	return 0, &cari.FieldError{Field: "type", Reason: fmt.Sprintf("unknown search type %q (want auto, keyword, neural or hybrid)", s)}
}

// Limits on a query. They keep one request from costing the server more
// than a search should.
const (
	DefaultNumResults = 10
	// MaxNumResults is the most results one search may ask for; a server
	// may cap it lower (CheckNumResults).
	MaxNumResults = 100
	// DefaultMaxQueryChars is the longest query text (and highlights
	// query) a searcher takes unless Options.MaxQueryChars says otherwise.
	// Real verbose topics and pasted paragraphs fit: CISI's longest query
	// has 2,023 characters. Longer text costs no unbounded work: the
	// keyword side reads a query's first store.MaxQueryTerms terms per
	// field and embedders truncate to their models' token limits.
	DefaultMaxQueryChars = 10000
	MaxDomains           = 1000
	MaxPhrases           = 10
	MaxPhraseChars       = 200
	MaxLanguages         = 20
)

// Query is one search request, independent of the transport it came by.
type Query struct {
	// Text is what the user typed.
	Text string
	// Type is the retrieval wanted; TypeAuto lets the searcher choose.
	Type Type
	// NumResults is how many documents to return; 0 means DefaultNumResults.
	NumResults int
	// Filter restricts the documents that may appear.
	Filter store.Filter
	// Contents says what each result carries besides its identity.
	Contents Contents
	// Fusion overrides the searcher's hybrid defaults for this query.
	Fusion FusionOverride
	// Debug asks for each side's rank and score per result.
	Debug bool
	// Rerank turns re-ranking on or off; nil takes the server's default
	// (on when a re-ranker is configured).
	Rerank *bool
	// RerankTopN is how many candidates to re-rank; 0 takes the default.
	RerankTopN int
}

// FusionOverride holds a query's changes to the fusion defaults; unset
// fields keep the searcher's.
type FusionOverride struct {
	Method     FusionMethod
	RRFK       *float64
	Alpha      *float64
	Candidates int
}

// Contents says what each result carries.
type Contents struct {
	// Text asks for each document's text.
	Text bool
	// MaxCharacters cuts the text to at most this many characters; 0 means
	// the whole text.
	MaxCharacters int
	// Highlights, when set, asks for the best-matching passages.
	Highlights *Highlights
}

// CheckNumResults checks a search's num_results against limit, the most a
// server allows (0, or more than MaxNumResults: MaxNumResults). Every
// transport (gRPC, HTTP, the CLI's flag) checks with it, so the bound reads
// the same everywhere.
func CheckNumResults(n, limit int) error {
	if limit <= 0 || limit > MaxNumResults {
		limit = MaxNumResults
	}
	if n < 1 || n > limit {
		return &cari.FieldError{Field: "num_results", Reason: fmt.Sprintf("must be between 1 and %d, got %d", limit, n)}
	}
	return nil
}

// Normalize fills defaults and checks every field, returning a
// *cari.FieldError naming the first invalid one. maxQueryChars bounds the
// query text (and the highlights query); 0 means DefaultMaxQueryChars.
func (q *Query) Normalize(maxQueryChars int) error {
	if maxQueryChars <= 0 {
		maxQueryChars = DefaultMaxQueryChars
	}
	q.Text = strings.TrimSpace(q.Text)
	switch {
	case q.Text == "":
		return &cari.FieldError{Field: "query", Reason: "must not be empty"}
	case !utf8.ValidString(q.Text):
		return &cari.FieldError{Field: "query", Reason: "is not valid UTF-8"}
	case strings.ContainsRune(q.Text, 0):
		return &cari.FieldError{Field: "query", Reason: "contains a NUL byte"}
	case utf8.RuneCountInString(q.Text) > maxQueryChars:
		return &cari.FieldError{Field: "query", Reason: fmt.Sprintf("must be at most %d characters, got %d", maxQueryChars, utf8.RuneCountInString(q.Text))}
	}
	if q.Type < TypeAuto || q.Type > TypeHybrid {
		return &cari.FieldError{Field: "type", Reason: fmt.Sprintf("unknown search type %d", int(q.Type))}
	}
	if q.NumResults == 0 {
		q.NumResults = DefaultNumResults
	}
	if err := CheckNumResults(q.NumResults, MaxNumResults); err != nil {
		return err
	}
	if q.RerankTopN < 0 || q.RerankTopN > MaxRerankTopN {
		return &cari.FieldError{Field: "rerank_top_n", Reason: fmt.Sprintf("must be between 0 and %d, got %d", MaxRerankTopN, q.RerankTopN)}
	}
	if err := q.Contents.validate(maxQueryChars); err != nil {
		return err
	}
	return ValidateFilter(&q.Filter)
}

// ValidateFilter checks a filter's fields and normalizes its domains and
// categories.
func ValidateFilter(f *store.Filter) error {
	for _, c := range []struct {
		field   string
		domains []string
	}{{"filters.include_domains", f.IncludeDomains}, {"filters.exclude_domains", f.ExcludeDomains}} {
		if len(c.domains) > MaxDomains {
			return &cari.FieldError{Field: c.field, Reason: fmt.Sprintf("at most %d entries, got %d", MaxDomains, len(c.domains))}
		}
		for i, d := range c.domains {
			if err := validateDomain(d); err != nil {
				return &cari.FieldError{Field: fmt.Sprintf("%s[%d]", c.field, i), Reason: err.Error()}
			}
			c.domains[i] = cari.NormalizeDomain(d)
		}
	}
	for _, c := range []struct {
		field   string
		phrases []string
	}{{"filters.include_text", f.IncludeText}, {"filters.exclude_text", f.ExcludeText}} {
		if len(c.phrases) > MaxPhrases {
			return &cari.FieldError{Field: c.field, Reason: fmt.Sprintf("at most %d phrases, got %d", MaxPhrases, len(c.phrases))}
		}
		for i, p := range c.phrases {
			n := utf8.RuneCountInString(strings.TrimSpace(p))
			if n == 0 || n > MaxPhraseChars || !utf8.ValidString(p) {
				return &cari.FieldError{Field: fmt.Sprintf("%s[%d]", c.field, i), Reason: fmt.Sprintf("must be 1 to %d characters of valid UTF-8", MaxPhraseChars)}
			}
		}
	}
	if len(f.Languages) > MaxLanguages {
		return &cari.FieldError{Field: "filters.languages", Reason: fmt.Sprintf("at most %d entries, got %d", MaxLanguages, len(f.Languages))}
	}
	for i, l := range f.Languages {
		if len(l) < 2 || len(l) > 35 || strings.ContainsAny(l, " \t/") {
			return &cari.FieldError{Field: fmt.Sprintf("filters.languages[%d]", i), Reason: fmt.Sprintf("%q is not a BCP 47 language tag", l)}
		}
	}
	if len(f.Categories) > len(category.All) {
		return &cari.FieldError{Field: "filters.categories", Reason: fmt.Sprintf("at most %d entries, got %d", len(category.All), len(f.Categories))}
	}
	for i, c := range f.Categories {
		name, ok := category.Parse(c)
		if !ok {
			return &cari.FieldError{Field: fmt.Sprintf("filters.categories[%d]", i), Reason: fmt.Sprintf("must be one of %s, got %q", strings.Join(category.All, ", "), c)}
		}
		f.Categories[i] = name
	}
	for _, r := range []struct {
		field    string
		from, to interface{ IsZero() bool }
		before   bool
	}{
		{"filters.published_date", f.PublishedFrom, f.PublishedTo, f.PublishedTo.Before(f.PublishedFrom)},
		{"filters.crawl_date", f.CrawledFrom, f.CrawledTo, f.CrawledTo.Before(f.CrawledFrom)},
	} {
		if !r.from.IsZero() && !r.to.IsZero() && r.before {
			return &cari.FieldError{Field: r.field + ".end", Reason: "is before start"}
		}
	}
	return nil
}

func validateDomain(d string) error {
	d = strings.TrimSpace(d)
	if d == "" || len(d) > 253 {
		return fmt.Errorf("must be a host name of 1 to 253 bytes")
	}
	if strings.ContainsAny(d, "/:?#@ \t") {
		return fmt.Errorf("%q is not a bare host name (no scheme, port or path)", d)
	}
	return nil
}

// looksExact reports whether a query reads as a lookup rather than a
// description: a quoted phrase, a single term, or an identifier (with
// underscores, dots between letters, "::", "()" or slashes).
// Such queries are served best by keywords.
func looksExact(text string) bool {
	if strings.Count(text, "\"") >= 2 {
		return true
	}
	words := strings.Fields(text)
	if len(words) <= 1 {
		return true
	}
	for _, w := range words {
		if strings.ContainsAny(w, "_/") || strings.Contains(w, "::") || strings.Contains(w, "()") {
			return true
		}
		if i := strings.IndexByte(w, '.'); i > 0 && i < len(w)-1 {
			return true
		}
	}
	return false
}

// MaxHighlights bounds sentences per highlight and highlights per result.
const MaxHighlights = 10

func (c Contents) validate(maxQueryChars int) error {
	if c.MaxCharacters < 0 {
		return &cari.FieldError{Field: "contents.text.max_characters", Reason: fmt.Sprintf("must be 0 or more, got %d", c.MaxCharacters)}
	}
	h := c.Highlights
	if h == nil {
		return nil
	}
	if h.NumSentences < 0 || h.NumSentences > MaxHighlights {
		return &cari.FieldError{Field: "contents.highlights.num_sentences", Reason: fmt.Sprintf("must be between 0 and %d, got %d", MaxHighlights, h.NumSentences)}
	}
	if h.PerURL < 0 || h.PerURL > MaxHighlights {
		return &cari.FieldError{Field: "contents.highlights.per_url", Reason: fmt.Sprintf("must be between 0 and %d, got %d", MaxHighlights, h.PerURL)}
	}
	if n := utf8.RuneCountInString(h.Query); n > maxQueryChars || !utf8.ValidString(h.Query) {
		return &cari.FieldError{Field: "contents.highlights.query", Reason: fmt.Sprintf("must be valid UTF-8 of at most %d characters", maxQueryChars)}
	}
	return nil
}
