package local

import (
	"context"
	"math"
	"testing"

	"github.com/cari-search/cari/store"

	"github.com/cari-search/cari"
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
	hits := mustSearch(t, s, store.KeywordQuery{Text: q, Limit: 10})
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
		if got := shortestCover(occurrences(tt.matches), len(tt.matches)); got != tt.want {
			t.Errorf("shortestCover(%v) = %d, want %d", tt.matches, got, tt.want)
		}
	}
}

func TestTitleAndWindowFeatures(t *testing.T) {
	s := newStore(t, Options{})
	upsert(t, s,
		cari.Document{ID: "short-title", Title: "Krill", Text: "Whales eat small crustaceans."},
		cari.Document{ID: "long-title", Title: "Krill swarms of the southern ocean in winter", Text: "Whales eat small crustaceans."},
		cari.Document{ID: "no-title", Text: "Krill and whales."},
		cari.Document{ID: "apart", Text: "Krill drift in dense swarms near the surface. " +
			"Currents, ice, light, plankton, storms, salinity, temperature and many other things shape the sea. " +
			"Seals, penguins and seabirds hunt them from spring until autumn. " +
			"Whales come later."},
		cari.Document{ID: "filler", Text: "Nothing to see here."},
	)
	f, err := s.MatchFeatures(context.Background(), "krill whales", []string{"short-title", "long-title", "no-title", "apart"})
	if err != nil {
		t.Fatal(err)
	}
	short, long := f["short-title"], f["long-title"]
	if short.TitleBM25 <= long.TitleBM25 || long.TitleBM25 <= 0 {
		t.Errorf("title BM25 %v (one-word title) and %v (long title): want both positive, the short title higher", short.TitleBM25, long.TitleBM25)
	}
	if f["no-title"].TitleBM25 != 0 {
		t.Errorf("title BM25 of a document without a title = %v", f["no-title"].TitleBM25)
	}
	for id, want := range map[string][3]float64{
		"no-title": {1, 1, 1}, // adjacent
		"apart":    {0.5, 0.5, 1},
	} {
		got := f[id].WindowCoverage
		for i := range want {
			// Each window holds at least the rarer term's share.
			if want[i] == 1 && got[i] < 0.999 || want[i] < 1 && (got[i] >= 0.999 || got[i] < 0.4) {
				t.Errorf("%s: window coverage %v (spans %v), want about %v", id, got, store.WindowSpans, want)
				break
			}
		}
	}
	if f["no-title"].MissingIDF != 0 {
		t.Errorf("missing IDF of a document with every term = %v", f["no-title"].MissingIDF)
	}
}

func TestMissingIDF(t *testing.T) {
	idfs := []float64{2, 4, 1}
	tests := []struct {
		matched []int
		want    float64
	}{
		{[]int{0, 1, 2}, 0},
		{[]int{1, 2}, 0.5},
		{[]int{0, 2}, 1},
		{nil, 1},
	}
	for _, tt := range tests {
		var ms []termMatch
		for _, m := range tt.matched {
			ms = append(ms, termMatch{term: m, positions: []int{1}})
		}
		if got := missingIDF(ms, idfs); got != tt.want {
			t.Errorf("missingIDF(matched %v) = %v, want %v", tt.matched, got, tt.want)
		}
	}
}

func TestWindowCoverage(t *testing.T) {
	idfs := []float64{1, 2, 1}
	ms := []termMatch{
		{term: 0, positions: []int{0, 40}},
		{term: 1, positions: []int{10}},
		{term: 2, positions: []int{45}},
	}
	for w, want := range map[int]float64{1: 0.5, 5: 0.5, 11: 0.75, 30: 0.75, 36: 1} {
		if got := windowCoverage(occurrences(ms), idfs, 4, w); got != want {
			t.Errorf("windowCoverage(w=%d) = %v, want %v", w, got, want)
		}
	}
}
