// Package analysis holds the pieces of Cari's text analysis that indexing
// and search must do alike and that do not depend on a store: language
// detection, the Indonesian stemmer, the bleve analyzers built from them,
// sentence splitting and the passage chunker.
package analysis

import (
	"strings"
	"sync"
	"unicode"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis/internal/lingua"
)

// Languages Cari analyses with a language of their own; every other
// language is analysed by the language-neutral fallback.
const (
	English    = "en"
	Indonesian = "id"
	Chinese    = "zh"
	Japanese   = "ja"
	Korean     = "ko"
)

// detectable are the languages the detector chooses among: those Cari has
// an analyzer for. A text in another language gets the closest of them
// with low confidence, or none. Only these languages' models are in the
// binary (internal/lingua/README.md): adding one means adding its models.
var detectable = []lingua.Language{lingua.English, lingua.Indonesian, lingua.Chinese, lingua.Japanese, lingua.Korean}

// Detection is the language of a text as the detector judged it.
type Detection struct {
	// Language is the BCP 47 tag of the most likely language, or "" when
	// the text has no letters the detector knows.
	Language string
	// Confidence is the detector's relative confidence in Language, 0 to 1.
	Confidence float64
	// Sure reports whether the text was long enough and the confidence
	// high enough to act on Language alone.
	Sure bool
}

// DetectOptions set how much evidence a detection needs to be sure.
type DetectOptions struct {
	// MinConfidence is the confidence a sure detection needs.
	MinConfidence float64
	// MinLetters is the number of letters below which a text written mostly
	// in the Latin alphabet, which many languages share, is never sure.
	// Other scripts (Han, kana, Hangul) are sure at any length.
	MinLetters int
	// MaxBytes bounds the text examined: a document's language shows in its
	// opening, and detection time grows with length.
	MaxBytes int
}

// Detection settings for documents and for queries. Queries are short, so
// they need fewer letters but the same confidence; an unsure query is
// searched in every language's field (see store/local).
var (
	DocumentDetection = DetectOptions{MinConfidence: 0.6, MinLetters: 40, MaxBytes: 500}
	QueryDetection    = DetectOptions{MinConfidence: 0.8, MinLetters: 12, MaxBytes: 1000}
)

// Detector detects the language of texts among the languages Cari
// analyses. It is safe for concurrent use.
type Detector struct {
	lingua lingua.LanguageDetector
}

var (
	detectorOnce sync.Once
	detector     *Detector
)

// NewDetector returns the detector. The first call loads the language
// models (lingua's high-accuracy n-gram models for the five languages);
// later calls share them.
func NewDetector() *Detector {
	detectorOnce.Do(func() {
		detector = &Detector{lingua: lingua.NewLanguageDetectorBuilder().
			FromLanguages(detectable...).
			WithPreloadedLanguageModels().
			Build()}
	})
	return detector
}

// Detect judges the language of text under o.
func (d *Detector) Detect(text string, o DetectOptions) Detection {
	text = cari.TruncateBytes(text, o.MaxBytes)
	values := d.lingua.ComputeLanguageConfidenceValues(text)
	if len(values) == 0 || values[0].Value() == 0 {
		return Detection{}
	}
	best := values[0]
	det := Detection{
		Language:   strings.ToLower(best.Language().IsoCode639_1().String()),
		Confidence: best.Value(),
	}
	letters, shared := countLetters(text)
	det.Sure = det.Confidence >= o.MinConfidence && (letters >= o.MinLetters || shared < letters/2)
	return det
}

// DetectDocument judges the language of a document from its title and the
// opening of its text.
func (d *Detector) DetectDocument(title, text string) Detection {
	if title != "" {
		text = title + "\n" + text
	}
	return d.Detect(text, DocumentDetection)
}

// DetectQuery judges the language of a query.
func (d *Detector) DetectQuery(text string) Detection {
	return d.Detect(text, QueryDetection)
}

// countLetters returns the letters of text and how many of them are in the
// Latin script, which many languages share. Han is not counted as shared:
// Chinese and Japanese both write it, but Cari analyses them alike.
func countLetters(text string) (letters, shared int) {
	for _, r := range text {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		if unicode.Is(unicode.Latin, r) {
			shared++
		}
	}
	return letters, shared
}
