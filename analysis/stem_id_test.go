package analysis

import (
	"os"
	"strings"
	"testing"
)

// testRoots is a small dictionary holding the roots of the examples below,
// and the decoys that a wrong rule would reach.
var testRoots = RootWords{}

func init() {
	for _, w := range strings.Fields(`duduk ibu buku baca makan mak beri sembunyi susun main bangun
		sama dengar tangis pukul ekonomi alam ajar sapu nyanyi tahu kerja tani dagang tanya
		tulis ambil jalan kata lari masuk akhir bersih kaji erti arti satu sepak baik hasil
		tari tunjuk kirim syukur rasa lihat kenal serah ada pakai gunung`) {
		testRoots[w] = struct{}{}
	}
}

func TestIndonesianStemmer(t *testing.T) {
	s := NewIndonesianStemmer(testRoots)
	for _, tc := range []struct{ word, want, why string }{
		// The inflection examples of Asian et al. (2005).
		{"duduklah", "duduk", "particle -lah"},
		{"ibunya", "ibu", "possessive -nya"},
		{"bukunyalah", "buku", "possessive before particle"},
		// One example for each rule family, reaching a root in the dictionary.
		{"membaca", "baca", "mem{b|f|v} -> mem-"},
		{"memakan", "makan", "mem V -> me-mV, suffix -kan restored before -an: not mak"},
		{"memukul", "pukul", "mem V -> me-pV (recoding)"},
		{"menulis", "tulis", "men V -> me-tV (recoding)"},
		{"menangis", "tangis", "men V -> me-tV"},
		{"mendengarkan", "dengar", "men{c|d|j|z} and -kan"},
		{"mengambil", "ambil", "meng V -> meng-V"},
		{"mengaji", "kaji", "meng V -> meng-kV (recoding)"},
		{"mengakhiri", "akhir", "meng V with -i"},
		{"menyapu", "sapu", "meny V -> meny-sV (recoding)"},
		{"menyanyi", "nyanyi", "meny V -> me-nyV"},
		{"menyusun", "susun", "meny V -> meny-sV"},
		{"mensyukuri", "syukur", "men-sy and -i"},
		{"mempermainkan", "main", "mem-per- then -kan: two prefixes"},
		{"bersembunyi", "sembunyi", "ber C -> ber-"},
		{"berjalan", "jalan", "ber C; -an removed first fails, restored"},
		{"belajar", "ajar", "bel-ajar, the exception"},
		{"bekerja", "kerja", "be C1erC2 -> be-"},
		{"berarti", "arti", "ber V -> ber-V"},
		{"terlihat", "lihat", "ter C -> ter-"},
		{"pembangunan", "bangun", "pem{b} and -an"},
		{"perekonomian", "ekonomi", "per V and -an"},
		{"pekerja", "kerja", "pe C -> pe-"},
		{"petani", "tani", "pe C -> pe-"},
		{"pedagang", "dagang", "pe C -> pe-"},
		{"pertanyaan", "tanya", "per C and -an"},
		{"pelajaran", "ajar", "pel-ajar and -an"},
		{"penulis", "tulis", "pen V -> pe-tV"},
		{"pengiriman", "kirim", "peng V -> peng-kV and -an"},
		{"penyerahan", "serah", "peny V -> peny-sV and -an"},
		{"kebersihan", "bersih", "ke- and -an"},
		{"kebersamaan", "sama", "ke-ber- and -an"},
		{"diketahui", "tahu", "di-ke- with -i (the tahu exception)"},
		{"ketahui", "tahu", "ke-...-i is allowed only for tahu"},
		{"dipakai", "pakai", "di-: root found before -i is removed"},
		{"sebaik", "baik", "se-"},
		{"pegunungan", "gunung", "pe- and -an"},
		{"dimainkannya", "main", "di- with -kan and -nya"},
		// No root: the word is returned unchanged rather than over-stemmed.
		{"komputer", "komputer", "not in the dictionary"},
		{"mengkomputerkan", "mengkomputerkan", "no root reachable"},
		{"dilihatan", "dilihatan", "di-...-an is disallowed"},
		// Too short, or not a-z.
		{"ada", "ada", "a root"},
		{"di", "di", "too short"},
		{"bérjalan", "bérjalan", "letters outside a-z"},
	} {
		if got := s.Stem(tc.word); got != tc.want {
			t.Errorf("Stem(%q) = %q, want %q (%s)", tc.word, got, tc.want, tc.why)
		}
	}
}

// TestStemInflections: the light variant removes a particle and then a
// possessive, even where no root is reached, and nothing else.
func TestStemInflections(t *testing.T) {
	s := NewIndonesianStemmer(testRoots)
	for _, tc := range []struct{ word, want, why string }{
		{"duduklah", "duduk", "particle -lah"},
		{"bukunyalah", "buku", "possessive before particle"},
		{"komputernya", "komputer", "-nya removed without a root"},
		{"pembangunannya", "pembangunan", "derivational affixes kept"},
		{"membaca", "membaca", "prefixes kept"},
		{"bukunya", "buku", "a root reached"},
		{"kerja", "kerja", "a root"},
		{"hanya", "hanya", "two letters would remain"},
		{"bérjalanlah", "bérjalanlah", "letters outside a-z"},
	} {
		if got := s.StemInflections(tc.word); got != tc.want {
			t.Errorf("StemInflections(%q) = %q, want %q (%s)", tc.word, got, tc.want, tc.why)
		}
	}
}

func TestParseHunspellWords(t *testing.T) {
	words, err := ParseHunspellWords(strings.NewReader("5\nabadi/DkMkO0\nJakarta\nmem-\naba-aba\nbaca/A0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(words) != 2 {
		t.Errorf("got %d words %v, want abadi and baca only", len(words), words)
	}
	for _, w := range []string{"abadi", "baca"} {
		if _, ok := words[w]; !ok {
			t.Errorf("%q missing", w)
		}
	}
	if _, err := ParseHunspellWords(strings.NewReader("3\nJakarta\n")); err == nil {
		t.Error("a dictionary without root words was accepted")
	}
}

// TestStemmerWithHunspellDictionary runs examples against the real
// dictionary Cari uses by default, when it is installed. That dictionary
// lists some derived words as entries of their own (pelajar, ketahu), which
// then stop the stemmer early; those are left out here.
func TestStemmerWithHunspellDictionary(t *testing.T) {
	path := FindIndonesianDictionary()
	if path == "" {
		t.Skip("no Indonesian Hunspell dictionary installed (apt-get install hunspell-id)")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	roots, err := ParseHunspellWords(f)
	if err != nil {
		t.Fatal(err)
	}
	s := NewIndonesianStemmer(roots)
	for word, want := range map[string]string{
		"duduklah": "duduk", "ibunya": "ibu", "membaca": "baca", "memakan": "makan",
		"menulis": "tulis", "pembangunan": "bangun", "perekonomian": "ekonomi",
		"mempermainkan": "main", "kebersamaan": "sama", "pertanyaan": "tanya", "mengambil": "ambil",
	} {
		if got := s.Stem(word); got != want {
			t.Errorf("Stem(%q) = %q with %s, want %q", word, got, path, want)
		}
	}
}
