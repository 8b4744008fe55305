package local

import (
	"context"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// TestIndonesianFieldParameters: Options.IndonesianBM25 changes the scores
// of the Indonesian field's documents and of no other field's, and bad
// parameters are refused naming the field.
func TestIndonesianFieldParameters(t *testing.T) {
	// In each language a term twice (k1 matters) and two lengths (b
	// matters), so that parameters applied to the wrong field show.
	docs := []cari.Document{
		{ID: "en", Text: "The village road was rebuilt by the regional government last year; the road is wide now.", Language: "en"},
		{ID: "en2", Text: "Farmers plant rice in the fields.", Language: "en"},
		{ID: "id", Text: "Jalan desa itu dibangun kembali oleh pemerintah daerah tahun lalu; jalan itu kini lebar.", Language: "id"},
		{ID: "id2", Text: "Petani menanam padi di sawah.", Language: "id"},
	}
	// One store per parameter set, shared by the queries: each store costs
	// an open and a committed write.
	stores := map[store.BM25]*Store{}
	score := func(p store.BM25, query string) float64 {
		t.Helper()
		s := stores[p]
		if s == nil {
			s = newStore(t, Options{IndonesianBM25: p})
			upsert(t, s, docs...)
			stores[p] = s
		}
		hits, err := s.SearchKeyword(context.Background(), store.KeywordQuery{Text: query, Limit: 1})
		if err != nil || len(hits) != 1 {
			t.Fatalf("%q: %v, %v", query, hits, err)
		}
		return hits[0].Score
	}
	other := store.BM25{K1: 0.5, B: 0.2}
	for _, q := range []struct {
		text    string
		changes bool
	}{
		{"village road government", false},
		{"jalan desa pemerintah", true},
	} {
		def, got := score(store.BM25{}, q.text), score(other, q.text)
		if (def != got) != q.changes {
			t.Errorf("%q: score %v with the default Indonesian parameters, %v with %+v; want them to differ: %t", q.text, def, got, other, q.changes)
		}
	}
	if _, err := Open(t.TempDir(), Options{IndonesianBM25: store.BM25{K1: 1, B: 2}}); err == nil || !strings.Contains(err.Error(), "Indonesian") {
		t.Errorf("Open with Indonesian b 2: %v, want an error naming the Indonesian field", err)
	}
}
