package searcher

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/internal/scifacttest"
)

// wordEmbedder is a static word-vector model in miniature: each word it
// knows points along its topic's axis, a text is the sum of its words, and
// a text with no word it knows is the zero vector, as GloVe makes of
// nonsense. "cetacean" shares the whales' axis but no document's words.
type wordEmbedder struct{ floor float64 }

var wordTopics = map[string]int{
	"whale": 0, "whales": 0, "whaling": 0, "cetacean": 0, "blue": 0,
	"krill": 1, "antarctic": 1, "swarm": 1,
	"cars": 2, "electric": 2, "batteries": 2, "petrol": 2,
}

func (e wordEmbedder) embed(text string) []float32 {
	v := make([]float32, 4)
	for _, w := range strings.Fields(strings.ToLower(text)) {
		if i, ok := wordTopics[strings.Trim(w, ".,")]; ok {
			v[i]++
		}
	}
	return v
}

func (e wordEmbedder) EmbedQuery(_ context.Context, text string) ([]float32, error) {
	return e.embed(text), nil
}

// EmbedDocuments embeds passages as queries: the model has no prompts.
func (e wordEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i], _ = e.EmbedQuery(ctx, t)
	}
	return out, nil
}

func (e wordEmbedder) SimilarityFloor() float64 { return e.floor }

func TestNonsenseQueriesFindNothing(t *testing.T) {
	ctx := context.Background()
	st := newHybridStoreWith(t, "test/words", wordEmbedder{}, hybridDocs...)
	for _, floor := range []float64{0, 0.5} {
		s := New(st, Options{Embedder: wordEmbedder{floor: floor}, Model: "test/words"})
		for _, q := range nonsenseQueries(19, 100) {
			for _, typ := range []Type{TypeAuto, TypeHybrid} {
				resp, err := s.Search(ctx, Query{Text: q, Type: typ, Debug: true})
				if err != nil {
					t.Fatalf("%v %q: %v", typ, q, err)
				}
				if len(resp.Results) != 0 {
					t.Errorf("floor %v, %v %q: %d results (first %+v), want none", floor, typ, q, len(resp.Results), *resp.Results[0].Debug)
				}
			}
		}
		// A neural search asks for the nearest neighbours, evidence or not.
		resp, err := s.Search(ctx, Query{Text: "qwxzzyplk blorfing", Type: TypeNeural})
		if err != nil || len(resp.Results) != len(hybridDocs) {
			t.Errorf("floor %v, neural nonsense: %v, %v; want every document", floor, resp, err)
		}
		// A query that shares no word with the whale documents but means
		// them keeps them, on vector evidence alone.
		resp, err = s.Search(ctx, Query{Text: "cetacean facts", Type: TypeHybrid})
		if err != nil || len(resp.Results) != 2 || !strings.HasPrefix(resp.Results[0].Document.ID, "whal") || !strings.HasPrefix(resp.Results[1].Document.ID, "whal") {
			t.Errorf("floor %v, cetacean: %v, %v; want the two whale documents", floor, resp, err)
		}
	}
}

func TestWithEvidenceKeepsOrderAndScores(t *testing.T) {
	ranked := []Fused{
		{ID: "both", Score: 0.9, KeywordRank: 1, VectorRank: 2, VectorScore: 0.1},
		{ID: "keyword", Score: 0.8, KeywordRank: 2},
		{ID: "near", Score: 0.7, VectorRank: 1, VectorScore: 0.61},
		{ID: "at-floor", Score: 0.6, VectorRank: 3, VectorScore: 0.6},
		{ID: "far", Score: 0.5, VectorRank: 4, VectorScore: 0.2},
		{ID: "nan", Score: 0.4, VectorRank: 5, VectorScore: math.NaN()},
	}
	want := slices.Clone(ranked[:3])
	if got := withEvidence(ranked, 0.6); !slices.EqualFunc(got, want, func(a, b Fused) bool { return a == b }) {
		t.Errorf("withEvidence = %+v, want %+v", got, want)
	}
}

// TestSciFactNonsenseFindsNothing runs generated nonsense against SciFact
// with the default static model and its calibrated floor, as cari serve
// answers auto and hybrid searches, and checks that real queries keep
// their results.
func TestSciFactNonsenseFindsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes SciFact")
	}
	st, emb, queries := scifacttest.Stack(t, "..")
	if f, ok := embeddings.CalibratedFloor(emb.Model()); !ok || emb.SimilarityFloor() != f {
		t.Fatalf("floor %v, want the calibrated %v (%v)", emb.SimilarityFloor(), f, ok)
	}
	s := New(st, Options{Embedder: emb, Model: emb.Model().ID(), Fusion: FusionForModel(true)})
	ctx := context.Background()
	for _, q := range nonsenseQueries(19, 100) {
		for _, typ := range []Type{TypeAuto, TypeHybrid} {
			resp, err := s.Search(ctx, Query{Text: q, Type: typ})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Results) != 0 {
				t.Errorf("%v %q: %d results, first %q, want none", typ, q, len(resp.Results), resp.Results[0].Document.Title)
			}
		}
	}
	for _, q := range queries[:50] {
		resp, err := s.Search(ctx, Query{Text: q.Text, Type: TypeHybrid})
		if err != nil || len(resp.Results) != DefaultNumResults {
			t.Errorf("%q: %d results, %v; want %d", q.Text, len(resp.Results), err, DefaultNumResults)
		}
	}
}
