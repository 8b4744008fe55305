package store

import (
	"strings"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis"
)

// The body fields: a document's analysed body (title and text) sits in the
// field of its analysis language, one field per language, so that each
// field's BM25 statistics describe documents analysed alike. Both stores
// name their fields so. English keeps the name "body" it had before there
// were others.
const (
	FieldBody        = "body"         // English
	FieldBodyID      = "body_id"      // Indonesian (and Malay)
	FieldBodyCJK     = "body_cjk"     // Chinese, Japanese, Korean
	FieldBodyNeutral = "body_neutral" // every other language, and unknown
)

// MaxQueryTerms bounds the analyzed terms of one keyword query in each body
// field it searches: each term is one pass over a posting list (or one
// dimension of a sparse query). A longer query is searched by its first
// MaxQueryTerms terms (LimitQueryTerms).
const MaxQueryTerms = 1024

// bodyField is one analysed body field and its analyzer.
type bodyField struct {
	name     string
	analyzer string
}

// bodyFields are the body fields, English first.
var bodyFields = []bodyField{
	{FieldBody, analysis.EnglishAnalyzer},
	{FieldBodyID, analysis.IndonesianAnalyzer},
	{FieldBodyCJK, analysis.CJKAnalyzer},
	{FieldBodyNeutral, analysis.NeutralAnalyzer},
}

// Fields lists the body fields, English first.
func Fields() []string {
	out := make([]string, len(bodyFields))
	for i, f := range bodyFields {
		out[i] = f.name
	}
	return out
}

// FieldAnalyzer returns the name of the analyzer (one analysis.AddAnalyzers
// defines) of body field, "" for a field that is not one.
func FieldAnalyzer(field string) string {
	for _, f := range bodyFields {
		if f.name == field {
			return f.analyzer
		}
	}
	return ""
}

// FieldForLanguage returns the body field of a document in the language
// with BCP 47 tag tag: its primary subtag decides.
func FieldForLanguage(tag string) string {
	primary, _, _ := strings.Cut(NormalizeLanguage(tag), "-")
	switch primary {
	case analysis.English:
		return FieldBody
	case analysis.Indonesian, "in", "ms": // "in" is Indonesian's withdrawn code; Malay shares the morphology
		return FieldBodyID
	case analysis.Chinese, analysis.Japanese, analysis.Korean:
		return FieldBodyCJK
	}
	return FieldBodyNeutral
}

// AnalyzerName is the name of the body fields' analysis when Indonesian is
// analysed as id; an index records it and refuses another (including
// another Indonesian dictionary, or ASCII folding, the default before issue
// 13's development set dropped it). The Indonesian options describe
// themselves in the same form whatever the default, so a record stays
// comparable. English is bleve's "en" (possessive removal, lower case,
// English stop words, Porter), which measured best on scifact/train among
// bleve's English chains (docs/EVALUATION.md).
func AnalyzerName(id analysis.IndonesianOptions) string {
	return "multilingual-1: en, id (" + id.String() + "), cjk, neutral"
}

// Body is the text the keyword index analyses for a document: its title and
// text on separate lines.
func Body(title, text string) string {
	if title == "" {
		return text
	}
	return title + "\n" + text
}

// DomainKeys returns the filter keys of a domain: the domain and each parent
// with at least two labels, so that a filter on a parent matches it:
// docs.example.com -> [docs.example.com example.com].
func DomainKeys(domain string) []string {
	domain = cari.NormalizeDomain(domain)
	keys := []string{domain}
	for {
		i := strings.IndexByte(domain, '.')
		if i < 0 || !strings.Contains(domain[i+1:], ".") {
			return keys
		}
		domain = domain[i+1:]
		keys = append(keys, domain)
	}
}

// LanguageKeys returns the filter keys of a BCP 47 tag: the tag and each
// shorter prefix, lower-cased, so that a filter on "en" matches "en-GB":
// zh-Hant-TW -> [zh-hant-tw zh-hant zh].
func LanguageKeys(tag string) []string {
	tag = NormalizeLanguage(tag)
	keys := []string{tag}
	for {
		i := strings.LastIndexByte(tag, '-')
		if i <= 0 {
			return keys
		}
		tag = tag[:i]
		keys = append(keys, tag)
	}
}

// NormalizeLanguage brings a language filter value to the form of
// LanguageKeys.
func NormalizeLanguage(tag string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(tag)), "_", "-")
}
