package analysis

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"

	blevean "github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/id"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
)

// Names of the analyzers a keyword index uses, one per analysis language.
const (
	// EnglishAnalyzer is bleve's "en": Unicode word segmentation, possessive
	// removal, lower case, English stop words, Porter stemming.
	EnglishAnalyzer = en.AnalyzerName
	// IndonesianAnalyzer is Unicode word segmentation, lower case, the
	// Indonesian stop words of bleve's id package (Tala's list) and the
	// Nazief-Adriani stemmer, after ASCII folding
	// (IndonesianOptions.Folding, on by default).
	IndonesianAnalyzer = "cari_id"
	// CJKAnalyzer is bleve's "cjk": Unicode word segmentation, full- and
	// half-width forms folded, lower case, overlapping character bigrams
	// for runs of Han, kana and Hangul.
	CJKAnalyzer = cjk.AnalyzerName
	// NeutralAnalyzer is the fallback for every other language: the CJK
	// chain, which assumes nothing about a language (no stop words, no
	// stemming) and still splits text written without spaces.
	NeutralAnalyzer = "cari_neutral"
)

// IndonesianStemFilter is the bleve token filter type of the
// Nazief-Adriani stemmer. Its config names the root-word dictionary file
// and that file's SHA-256. When the file is gone or has changed, the filter
// stems nothing rather than failing: an index must stay readable so that a
// reindex can read its stored documents, and it is the generation's
// recorded analyzer (which names the dictionary's hash) that keeps an index
// from being searched with another dictionary.
const IndonesianStemFilter = "stem_id_nazief_adriani"

// IndonesianOptions choose the pieces of the Indonesian analyzer.
type IndonesianOptions struct {
	// NoStopWords keeps stop words in the index.
	NoStopWords bool
	// Folding folds letters to ASCII (é to e) before segmentation, so that
	// a name borrowed from another language matches whether or not it is
	// written with its diacritics. On by default: on the Indonesian
	// development set (tydiqa-id/train) taking it out lowered nDCG@10 by
	// more than the noise (docs/EVALUATION.md).
	Folding bool
	// Dictionary is the path of a Hunspell dictionary (.dic) of Indonesian
	// root words for the stemmer; empty turns stemming off.
	Dictionary string
	// InflectionsOnly stems with IndonesianStemmer.StemInflections (the
	// particles and possessives) instead of the full Nazief-Adriani Stem.
	InflectionsOnly bool
	// SHA256 is the dictionary file's hex SHA-256; empty means read it.
	SHA256 string
}

// DefaultIndonesianOptions returns stop words and ASCII folding on and the
// first of DefaultIndonesianDictionaries that can be read, with its hash;
// stemming is off when none can.
func DefaultIndonesianOptions() IndonesianOptions {
	path := FindIndonesianDictionary()
	if path == "" {
		return IndonesianOptions{Folding: true}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return IndonesianOptions{Folding: true}
	}
	return IndonesianOptions{Folding: true, Dictionary: path, SHA256: sha256Hex(b)}
}

// sha256Hex is the hex SHA-256 of a dictionary file's contents, as
// IndonesianOptions.SHA256 and the stem filter's config hold it.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// String describes the options in a form that changes whenever the
// analysis would: a generation records it. Folding is named when it is off,
// as it was when folding was the default, so that a generation built with
// folding (whose record names no folding) is refused by a process without
// it, and one built without folding is still accepted.
func (o IndonesianOptions) String() string {
	s := "stop words"
	if o.NoStopWords {
		s = "no stop words"
	}
	if !o.Folding {
		s += ", no folding"
	}
	if o.Dictionary == "" {
		return s + ", no stemming"
	}
	stemmer := "Nazief-Adriani"
	if o.InflectionsOnly {
		stemmer = "inflections only"
	}
	return fmt.Sprintf("%s, %s with %s (sha256 %.12s)", s, stemmer, o.Dictionary, o.SHA256)
}

// DefaultIndonesianDictionaries are where Debian's hunspell-id package puts
// its dictionary (LGPL-3); Cari reads it there rather than shipping it.
var DefaultIndonesianDictionaries = []string{
	"/usr/share/hunspell/id_ID.dic",
	"/usr/share/myspell/id_ID.dic",
	"/usr/share/myspell/dicts/id_ID.dic",
}

// FindIndonesianDictionary returns the first of DefaultIndonesianDictionaries
// that exists, or "".
func FindIndonesianDictionary() string {
	for _, p := range DefaultIndonesianDictionaries {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// IndonesianDictionaryInstall is the command that installs the root words
// Indonesian stemming needs (Debian and Ubuntu).
const IndonesianDictionaryInstall = "apt-get install hunspell-id"

// IndonesianStemmingWarning returns what an operator should be told once at
// start-up when this process analyses Indonesian without stemming because
// none of DefaultIndonesianDictionaries can be read (Indonesian results are
// worse; an index built so must be rebuilt after installing), with the
// command that installs the dictionary; "" when stemming is on.
func IndonesianStemmingWarning() string {
	return stemmingWarning(DefaultIndonesianOptions(), DefaultIndonesianDictionaries)
}

func stemmingWarning(o IndonesianOptions, searched []string) string {
	if o.Dictionary != "" {
		return ""
	}
	return fmt.Sprintf("Indonesian is analysed without stemming: no dictionary of root words in %s; "+
		"install it with `%s` and reindex what was indexed without it",
		strings.Join(searched, ", "), IndonesianDictionaryInstall)
}

// AddAnalyzers defines Cari's custom analyzers in m, recording the
// stemmer's dictionary and its hash in m.
func AddAnalyzers(m *mapping.IndexMappingImpl, o IndonesianOptions) error {
	filters := []string{lowercase.Name}
	if !o.NoStopWords {
		filters = append(filters, id.StopName)
	}
	if o.Dictionary != "" {
		if o.SHA256 == "" {
			b, err := os.ReadFile(o.Dictionary)
			if err != nil {
				return fmt.Errorf("read Indonesian root words: %w", err)
			}
			o.SHA256 = sha256Hex(b)
		}
		config := map[string]any{
			"type":       IndonesianStemFilter,
			"dictionary": o.Dictionary,
			"sha256":     o.SHA256,
		}
		if o.InflectionsOnly {
			config["inflections"] = true // absent otherwise: mappings written before the variant stay as they were
		}
		if err := m.AddCustomTokenFilter("stem_id", config); err != nil {
			return err
		}
		filters = append(filters, "stem_id")
	}
	id := map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": filters,
	}
	if o.Folding {
		id["char_filters"] = []string{asciifolding.Name}
	}
	if err := m.AddCustomAnalyzer(IndonesianAnalyzer, id); err != nil {
		return fmt.Errorf("define analyzer %s: %w", IndonesianAnalyzer, err)
	}
	if err := m.AddCustomAnalyzer(NeutralAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []string{cjk.WidthName, lowercase.Name, cjk.BigramName},
	}); err != nil {
		return fmt.Errorf("define analyzer %s: %w", NeutralAnalyzer, err)
	}
	return nil
}

// stemmers caches the loaded dictionaries by path and hash: every index
// generation opened in a process shares one.
var stemmers sync.Map

func stemFilterConstructor(config map[string]any, _ *registry.Cache) (blevean.TokenFilter, error) {
	path, _ := config["dictionary"].(string)
	want, _ := config["sha256"].(string)
	if path == "" || want == "" {
		return nil, fmt.Errorf("%s needs dictionary and sha256", IndonesianStemFilter)
	}
	inflections, _ := config["inflections"].(bool)
	key := fmt.Sprintf("%s@%s inflections only: %t", path, want, inflections)
	if s, ok := stemmers.Load(key); ok {
		return s.(*stemFilter), nil
	}
	f := &stemFilter{inflections: inflections}
	if b, err := os.ReadFile(path); err == nil && sha256Hex(b) == want {
		roots, err := ParseHunspellWords(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		f.s = NewIndonesianStemmer(roots)
	}
	if f.s == nil {
		return f, nil // not cached: the dictionary may come back
	}
	actual, _ := stemmers.LoadOrStore(key, f)
	return actual.(*stemFilter), nil
}

// stemFilter stems with s (only inflections, if set); with a nil s (the
// recorded dictionary is not there) it passes tokens through.
type stemFilter struct {
	s           *IndonesianStemmer
	inflections bool
}

// Filter stems each token in place.
func (f *stemFilter) Filter(in blevean.TokenStream) blevean.TokenStream {
	if f.s == nil {
		return in
	}
	stem := f.s.Stem
	if f.inflections {
		stem = f.s.StemInflections
	}
	for _, t := range in {
		if t.KeyWord {
			continue
		}
		if stem := stem(string(t.Term)); len(stem) != len(t.Term) {
			t.Term = []byte(stem)
		}
	}
	return in
}

func init() {
	if err := registry.RegisterTokenFilter(IndonesianStemFilter, stemFilterConstructor); err != nil {
		panic(err)
	}
}
