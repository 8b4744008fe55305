package searcher

import (
	"context"
	"errors"
	"hash/fnv"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local"
)

// trigramEmbedder hashes character trigrams into a small vector: a real,
// deterministic embedder in which texts sharing letter sequences are close.
type trigramEmbedder struct{ fail error }

const trigramDim = 64

func (e trigramEmbedder) embed(text string) []float32 {
	v := make([]float32, trigramDim)
	t := "  " + strings.ToLower(text) + "  "
	for i := 0; i+3 <= len(t); i++ {
		h := fnv.New32a()
		h.Write([]byte(t[i : i+3]))
		v[h.Sum32()%trigramDim]++
	}
	return v
}

func (e trigramEmbedder) EmbedQuery(_ context.Context, text string) ([]float32, error) {
	if e.fail != nil {
		return nil, e.fail
	}
	return e.embed(text), nil
}

func (e trigramEmbedder) EmbedDocuments(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = e.embed(t)
	}
	return out, nil
}

// newHybridStore indexes docs through the real indexer with trigram
// embeddings.
func newHybridStore(t *testing.T, docs ...cari.Document) *local.Store {
	t.Helper()
	return newHybridStoreWith(t, "test/trigram", trigramEmbedder{}, docs...)
}

// newHybridStoreWith indexes docs through the real indexer with emb, named
// model.
func newHybridStoreWith(t *testing.T, model string, emb indexer.DocumentEmbedder, docs ...cari.Document) *local.Store {
	t.Helper()
	probe, err := emb.EmbedDocuments(context.Background(), []string{"probe"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := local.Open(t.TempDir(), local.Options{Vectors: store.VectorSpace{Model: model, Dim: len(probe[0])}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ix, err := indexer.New(s, indexer.Options{Embedder: emb})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, d := range docs {
		if err := ix.Add(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

var hybridDocs = []cari.Document{
	{ID: "whales", Title: "Whales", Text: "Blue whales are the largest animals and eat krill."},
	{ID: "whaling", Title: "Whaling", Text: "Commercial whaling nearly wiped out blue whale populations."},
	{ID: "krill", Title: "Krill", Text: "Antarctic krill swarm in cold southern oceans."},
	{ID: "cars", Title: "Cars", Text: "Electric cars use batteries instead of petrol engines."},
}

func TestSearchTypes(t *testing.T) {
	s := New(newHybridStore(t, hybridDocs...), Options{Embedder: trigramEmbedder{}, Model: "test/trigram"})
	ctx := context.Background()
	for _, tc := range []struct {
		typ      Type
		query    string
		resolved Type
	}{
		{TypeKeyword, "blue whales", TypeKeyword},
		{TypeNeural, "blue whales", TypeNeural},
		{TypeHybrid, "blue whales", TypeHybrid},
		{TypeAuto, "what do blue whales eat", TypeHybrid},
		{TypeAuto, "krill", TypeKeyword},
	} {
		resp, err := s.Search(ctx, Query{Text: tc.query, Type: tc.typ, NumResults: 3, Debug: true})
		if err != nil {
			t.Fatalf("%v %q: %v", tc.typ, tc.query, err)
		}
		if resp.Type != tc.resolved {
			t.Errorf("%v %q resolved to %v, want %v", tc.typ, tc.query, resp.Type, tc.resolved)
		}
		if len(resp.Results) == 0 || resp.Results[0].Document.ID == "cars" {
			t.Errorf("%v %q: results %v, want a whale document first", tc.typ, tc.query, resp.Results)
		}
		if (resp.Model != "") != (tc.resolved != TypeKeyword) {
			t.Errorf("%v: model %q reported", tc.resolved, resp.Model)
		}
		for _, r := range resp.Results {
			d := r.Debug
			if d == nil {
				t.Fatalf("%v: no debug with Debug set", tc.typ)
			}
			if tc.resolved == TypeHybrid && d.KeywordRank == 0 && d.VectorRank == 0 {
				t.Errorf("hybrid result %s has no component", r.Document.ID)
			}
		}
	}
}

func TestHybridNeedsEmbedderAndReportsFailure(t *testing.T) {
	store := newHybridStore(t, hybridDocs...)
	_, err := New(store, Options{}).Search(context.Background(), Query{Text: "blue whales", Type: TypeHybrid})
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("hybrid without embedder: %v, want ErrUnavailable", err)
	}
	down := errors.New("connection refused")
	_, err = New(store, Options{Embedder: trigramEmbedder{fail: down}}).Search(context.Background(), Query{Text: "blue whales", Type: TypeNeural})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, down) {
		t.Errorf("embedder failure: %v, want ErrUnavailable wrapping the cause", err)
	}
}

func TestHybridFilterFillsResults(t *testing.T) {
	var docs []cari.Document
	for i := range 30 {
		domain, text := "strong.example", "blue whales blue whales krill ocean"
		if i%3 == 0 {
			domain, text = "weak.example", "a note that mentions whales once among many other words about cars and roads"
		}
		docs = append(docs, cari.Document{ID: strings.Repeat("d", 1) + string(rune('A'+i)), URL: "https://" + domain + "/" + string(rune('a'+i)), Text: text})
	}
	s := New(newHybridStore(t, docs...), Options{Embedder: trigramEmbedder{}})
	resp, err := s.Search(context.Background(), Query{Text: "blue whales", Type: TypeHybrid, NumResults: 10,
		Filter: store.Filter{IncludeDomains: []string{"weak.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 10 {
		t.Fatalf("got %d results, want exactly 10 from the 10 weak.example documents", len(resp.Results))
	}
	for _, r := range resp.Results {
		if r.Document.Domain != "weak.example" {
			t.Errorf("result on %s passed a weak.example filter", r.Document.Domain)
		}
	}
}
