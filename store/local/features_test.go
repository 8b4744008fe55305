package local

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
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
	matched, err := s.MatchDocuments(ctx, q, ids)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := matched["missing"]; ok {
		t.Error("a document that is not stored has features")
	}
	docs, err := s.Documents(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for id, d := range docs {
		if !reflect.DeepEqual(matched[id].Document, d) {
			t.Errorf("%s: MatchDocuments loaded %+v, Documents %+v", id, matched[id].Document, d)
		}
	}
	f := features(matched)
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

// features picks the match features out of MatchDocuments' answer.
func features(matched map[string]store.MatchedDocument) map[string]store.MatchFeatures {
	out := make(map[string]store.MatchFeatures, len(matched))
	for id, m := range matched {
		out[id] = m.Match
	}
	return out
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
	matched, err := s.MatchDocuments(context.Background(), "krill whales", []string{"short-title", "long-title", "no-title", "apart"})
	if err != nil {
		t.Fatal(err)
	}
	f := features(matched)
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
