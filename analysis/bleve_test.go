package analysis

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
)

func analyze(t *testing.T, o IndonesianOptions, analyzer, text string) []string {
	t.Helper()
	m := bleve.NewIndexMapping()
	if err := AddAnalyzers(m, o); err != nil {
		t.Fatal(err)
	}
	a := m.AnalyzerNamed(analyzer)
	if a == nil {
		t.Fatalf("analyzer %s cannot be built", analyzer)
	}
	var out []string
	for _, tok := range a.Analyze([]byte(text)) {
		out = append(out, string(tok.Term))
	}
	return out
}

func writeDictionary(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "id.dic")
	var b strings.Builder
	b.WriteString("3\n")
	for _, w := range []string{"baca", "buku", "ajar"} {
		b.WriteString(w + "/X\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestIndonesianAnalyzer(t *testing.T) {
	dict := writeDictionary(t)
	text := "Mereka membaca buku-bukunya dan pelajaran itu"
	for _, tc := range []struct {
		name string
		o    IndonesianOptions
		want []string
	}{
		{"stop words and stemming", IndonesianOptions{Dictionary: dict}, []string{"baca", "buku", "buku", "ajar"}},
		{"stop words only", IndonesianOptions{}, []string{"membaca", "buku", "bukunya", "pelajaran"}},
		{"stemming only", IndonesianOptions{NoStopWords: true, Dictionary: dict}, []string{"mereka", "baca", "buku", "buku", "dan", "ajar", "itu"}},
		{"inflections only", IndonesianOptions{Dictionary: dict, InflectionsOnly: true}, []string{"membaca", "buku", "buku", "pelajaran"}},
	} {
		if got := analyze(t, tc.o, IndonesianAnalyzer, text); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q -> %q, want %q", tc.name, text, got, tc.want)
		}
	}
}

// TestIndonesianFoldingIsOptIn: diacritics are kept unless Folding asks
// for them to be folded, and the options' description (which a generation
// records) tells the two apart in the form generations have recorded since
// folding was the default: a folded analysis names no folding, an unfolded
// one says "no folding".
func TestIndonesianFoldingIsOptIn(t *testing.T) {
	text := "Kafe Café Pélé"
	if got, want := analyze(t, IndonesianOptions{}, IndonesianAnalyzer, text), []string{"kafe", "café", "pélé"}; !slices.Equal(got, want) {
		t.Errorf("default: %q -> %q, want %q", text, got, want)
	}
	if got, want := analyze(t, IndonesianOptions{Folding: true}, IndonesianAnalyzer, text), []string{"kafe", "cafe", "pele"}; !slices.Equal(got, want) {
		t.Errorf("with Folding: %q -> %q, want %q", text, got, want)
	}
	for _, tc := range []struct {
		o    IndonesianOptions
		want string
	}{
		{IndonesianOptions{}, "stop words, no folding, no stemming"},
		{IndonesianOptions{Folding: true}, "stop words, no stemming"},
		{IndonesianOptions{NoStopWords: true, Folding: true, Dictionary: "/d/id.dic", SHA256: strings.Repeat("ab", 32)}, "no stop words, Nazief-Adriani with /d/id.dic (sha256 abababababab)"},
		{IndonesianOptions{Dictionary: "/d/id.dic", SHA256: strings.Repeat("ab", 32)}, "stop words, no folding, Nazief-Adriani with /d/id.dic (sha256 abababababab)"},
		{IndonesianOptions{Folding: true, Dictionary: "/d/id.dic", SHA256: strings.Repeat("ab", 32), InflectionsOnly: true}, "stop words, inflections only with /d/id.dic (sha256 abababababab)"},
	} {
		if got := tc.o.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.o, got, tc.want)
		}
	}
}

// TestChangedDictionaryStemsNothing: an index whose recorded dictionary has
// changed still opens (a reindex must read its stored documents) but its
// analyzer no longer stems; the generation's manifest refuses to serve it.
func TestChangedDictionaryStemsNothing(t *testing.T) {
	dict := writeDictionary(t)
	o := IndonesianOptions{Dictionary: dict, SHA256: strings.Repeat("0", 64), NoStopWords: true}
	got := analyze(t, o, IndonesianAnalyzer, "membaca buku")
	if !slices.Equal(got, []string{"membaca", "buku"}) {
		t.Errorf("with a dictionary whose hash differs from the recorded one: %q, want the words unstemmed", got)
	}
	o.Dictionary = filepath.Join(t.TempDir(), "gone.dic")
	if got := analyze(t, o, IndonesianAnalyzer, "membaca"); !slices.Equal(got, []string{"membaca"}) {
		t.Errorf("with the dictionary gone: %q, want the word unstemmed", got)
	}
}

func TestCJKAndNeutralAnalyzers(t *testing.T) {
	for _, name := range []string{CJKAnalyzer, NeutralAnalyzer} {
		// Full-width Latin letters fold to ASCII; half-width katakana to
		// full-width; Han runs become overlapping bigrams.
		got := analyze(t, IndonesianOptions{}, name, "ＧＰＳ 北京大学 ｶﾀｶﾅ")
		want := []string{"gps", "北京", "京大", "大学", "カタ", "タカ", "カナ"}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

// TestIndonesianStemmingWarning: a process without the root words says so,
// naming where it looked and the command that installs them; one with them
// says nothing.
func TestIndonesianStemmingWarning(t *testing.T) {
	searched := []string{"/nowhere/id_ID.dic"}
	w := stemmingWarning(IndonesianOptions{}, searched)
	for _, want := range []string{"without stemming", "/nowhere/id_ID.dic", "apt-get install hunspell-id"} {
		if !strings.Contains(w, want) {
			t.Errorf("warning %q does not say %q", w, want)
		}
	}
	if w := stemmingWarning(IndonesianOptions{Dictionary: "/usr/share/hunspell/id_ID.dic", SHA256: "ab"}, searched); w != "" {
		t.Errorf("warning %q with a dictionary", w)
	}
	// This machine's answer agrees with what the analyzers use.
	if got, stemming := IndonesianStemmingWarning(), DefaultIndonesianOptions().Dictionary != ""; (got == "") != stemming {
		t.Errorf("IndonesianStemmingWarning() = %q with stemming %v", got, stemming)
	}
}
