package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// multilingual is a corpus in two languages: a store analyses each in its
// own way and keeps BM25 statistics per language.
var multilingual = []struct{ id, lang, title, text string }{
	{"i1", "id", "Pemerintah daerah", "Pemerintah daerah membangun jalan baru di desa. Pembangunan jalan itu selesai tahun lalu."},
	{"i2", "id", "Petani padi", "Para petani menanam padi di sawah. Hujan membantu pertumbuhan padi di desa."},
	{"i3", "id", "Pendidikan anak", "Sekolah baru dibuka untuk anak-anak desa. Guru mengajar membaca dan menulis."},
	{"e1", "en", "Road building", "The government built a new road to the village of Sukamaju."},
	{"e2", "en", "Rice farming", "Farmers in Sukamaju plant rice during the rainy season, and the rice grows."},
}

func multilingualEntries() []store.Entry {
	out := make([]store.Entry, len(multilingual))
	for i, m := range multilingual {
		d := cari.Document{ID: m.id, Title: m.title, Text: m.text, Language: m.lang, Crawled: day("2024-01-01")}
		out[i] = store.Entry{Doc: d, Chunks: []cari.Chunk{{End: len(m.text)}}, Vectors: [][]float32{{1, 0, 0, 0}}}
	}
	return out
}

// bm25In scores the corpus's documents in lang for query, analysed as lang
// is, with that language's average length. The IDF counts documents of
// every language: all of them, and those with the term in the language
// where it is most frequent (in this corpus no term is in two languages'
// documents).
func bm25In(s store.Store, lang, query string) map[string]float64 {
	bodies := map[string][]string{}
	all := map[string]map[string][]string{}
	total := 0
	for _, m := range multilingual {
		terms := s.TermsIn(store.Body(m.title, m.text), m.lang)
		if all[m.lang] == nil {
			all[m.lang] = map[string][]string{}
		}
		all[m.lang][m.id] = terms
		if m.lang == lang {
			bodies[m.id] = terms
			total += len(terms)
		}
	}
	n, avgdl := float64(len(multilingual)), float64(total)/float64(len(bodies))
	// The Indonesian field has its own parameters
	// (store.DefaultIndonesianBM25); every other field store.DefaultBM25.
	k1, b := store.DefaultBM25.K1, store.DefaultBM25.B
	if lang == "id" {
		k1, b = store.DefaultIndonesianBM25.K1, store.DefaultIndonesianBM25.B
	}
	out := map[string]float64{}
	for _, q := range s.TermsIn(query, lang) {
		df := 0.0
		for _, docs := range all {
			df = max(df, docFreq(docs, q))
		}
		addBM25(out, bodies, q, bm25IDF(n, df), avgdl, k1, b)
	}
	return out
}

func testKeywordMultilingual(t *testing.T, s store.Store) {
	if err := s.Upsert(context.Background(), multilingualEntries()); err != nil {
		t.Fatal(err)
	}
	if got, want := s.TermsIn("Pembangunan jalan", "id"), s.TermsIn("Pembangunan jalan", "en"); slices.Equal(got, want) {
		t.Logf("Indonesian and English analysis agree on %q (%v): the test below checks less", "Pembangunan jalan", got)
	}
	for _, tc := range []struct {
		query, lang string
	}{
		// Indonesian, long enough to be recognised: scored among the
		// Indonesian documents.
		{"pembangunan jalan baru di desa oleh pemerintah daerah", "id"},
		// A name: found in the English documents, scored among them.
		{"Sukamaju rice", "en"},
	} {
		want := bm25In(s, tc.lang, tc.query)
		hits := keyword(t, s, tc.query, store.Filter{})
		if len(hits) != len(want) {
			t.Errorf("%q: hits %v, want the %d %s documents %v", tc.query, hits, len(want), tc.lang, want)
			continue
		}
		for _, h := range hits {
			w, ok := want[h.ID]
			if !ok || !near(h.Score, w) {
				t.Errorf("%q: %s scored %v, BM25 among the %s documents gives %v", tc.query, h.ID, h.Score, tc.lang, w)
			}
		}
	}
	// Filters see the language too, and a phrase is matched as the
	// document's language analyses it.
	hits := keyword(t, s, "desa padi Sukamaju", store.Filter{Languages: []string{"id"}, IncludeText: []string{"menanam padi"}})
	if len(hits) != 1 || hits[0].ID != "i2" {
		t.Errorf("Indonesian phrase filter: %v, want i2", hits)
	}
	docs, err := s.Documents(context.Background(), []string{"i1", "e1"})
	if err != nil || docs["i1"].Language != "id" || !strings.HasPrefix(docs["e1"].Text, "The government") {
		t.Errorf("documents %v, %v", docs, err)
	}
}
