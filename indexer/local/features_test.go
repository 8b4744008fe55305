package local

import (
	"context"
	"math"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
)

func TestMatchFeatures(t *testing.T) {
	s := newStore(t, Options{})
	upsert(t, s,
		cari.Document{ID: "title", Title: "Blue whales", Text: "They eat krill in the ocean."},
		cari.Document{ID: "near", Text: "The blue whale is large. Krill swarm elsewhere in other seas entirely."},
		cari.Document{ID: "far", Text: "Blue skies over the harbour, ships and gulls and wind and tide, and much later whales."},
		cari.Document{ID: "none", Text: "Nothing relevant here at all."},
	)
	ctx := context.Background()
	q := "blue whales"
	hits := mustSearch(t, s, indexer.KeywordQuery{Text: q, Limit: 10})
	ids := []string{"none", "missing"}
	for _, h := range hits {
		ids = append(ids, h.ID)
	}
	f, err := s.MatchFeatures(ctx, q, ids)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f["missing"]; ok {
		t.Error("a document that is not stored has features")
	}
	for _, h := range hits {
		if math.Abs(f[h.ID].BM25-h.Score) > 1e-9 {
			t.Errorf("%s: BM25 feature %v, keyword score %v: they must agree", h.ID, f[h.ID].BM25, h.Score)
		}
	}
	if got := f["title"]; got.TitleCoverage < 0.999 || got.Coverage < 0.999 || got.Proximity != 1 || got.FirstMatch != 0 {
		t.Errorf("title doc features = %+v, want full title coverage, adjacent terms, first match at 0", got)
	}
	if got := f["near"]; got.TitleCoverage != 0 || got.Proximity != 1 {
		t.Errorf("near doc = %+v, want no title match and adjacent terms", got)
	}
	if f["far"].Proximity >= 0.5 || f["far"].Proximity <= 0 {
		t.Errorf("far doc proximity = %v, want small but positive", f["far"].Proximity)
	}
	if got := f["none"]; got.Coverage != 0 || got.BM25 != 0 || got.FirstMatch != 1 || got.Proximity != 0 {
		t.Errorf("non-matching doc = %+v", got)
	}
}

func TestShortestCover(t *testing.T) {
	tests := []struct {
		matches []termMatch
		want    int
	}{
		{[]termMatch{{positions: []int{5}}}, 1},
		{[]termMatch{{positions: []int{1, 20}}, {positions: []int{18}}}, 3},
		{[]termMatch{{positions: []int{1}}, {positions: []int{10}}, {positions: []int{4, 30}}}, 10},
	}
	for _, tt := range tests {
		if got := shortestCover(tt.matches); got != tt.want {
			t.Errorf("shortestCover(%v) = %d, want %d", tt.matches, got, tt.want)
		}
	}
}
