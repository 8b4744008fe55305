package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cari-search/cari/indexer"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/server/internal/servertest"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local"
)

func TestGenerationInfo(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		gen            store.Generation
		state          cariv1.GenerationState
		provider, name string
	}{
		{store.Generation{Name: "g1", State: store.GenerationServing, Vectors: store.VectorSpace{Model: "static/glove-6b-100d@abc", Dim: 100}},
			cariv1.GenerationState_GENERATION_STATE_SERVING, "local", "glove-6b-100d"},
		{store.Generation{Name: "g2", State: store.GenerationBuilding, Vectors: store.VectorSpace{Model: "openai/Qwen/Qwen3-Embedding-0.6B@v1", Dim: 1024}},
			cariv1.GenerationState_GENERATION_STATE_BUILDING, "openai", "Qwen/Qwen3-Embedding-0.6B"},
		{store.Generation{Name: "g3", State: store.GenerationRetired}, cariv1.GenerationState_GENERATION_STATE_RETIRED, "", ""},
	} {
		c.gen.Created, c.gen.Documents, c.gen.SizeBytes = created, 7, 99
		info := generationInfo(c.gen)
		if info.GetName() != c.gen.Name || info.GetState() != c.state || !info.GetCreateTime().AsTime().Equal(created) ||
			info.GetDocuments() != 7 || info.GetSizeBytes() != 99 {
			t.Errorf("%s: %v", c.gen.Name, info)
		}
		m := info.GetEmbeddingModel()
		if m.GetProvider() != c.provider || m.GetName() != c.name || (c.name != "" && int(m.GetDimension()) != c.gen.Vectors.Dim) {
			t.Errorf("%s: embedding model %v, want %s %s", c.gen.Name, m, c.provider, c.name)
		}
	}
}

// letterEmbedder embeds text as the counts of three letters: a model small
// enough to build a store with vectors in a test.
type letterEmbedder struct{}

func (letterEmbedder) EmbedQuery(_ context.Context, text string) ([]float32, error) {
	return []float32{float32(strings.Count(text, "a") + 1), float32(strings.Count(text, "e")), float32(strings.Count(text, "o"))}, nil
}

func (e letterEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i], _ = e.EmbedQuery(ctx, t)
	}
	return out, nil
}

// GetStats and search responses name the embedding model alike: provider,
// name, dimension and the full identity the index records.
func TestStatsAndSearchNameOneModel(t *testing.T) {
	space := store.VectorSpace{Model: "static/letters@0123abcd", Dim: 3}
	st, err := local.Open(t.TempDir(), local.Options{Vectors: space})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	indexing := indexer.Options{Embedder: letterEmbedder{}}
	ix, err := indexer.New(st, indexing)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range servertest.Docs {
		if err := ix.Add(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	svc := newServices(Options{Store: st, Indexing: indexing, StoreName: "local",
		Searcher: searcher.New(st, searcher.Options{Embedder: letterEmbedder{}, Model: space.Model})})
	stats, err := svc.index.GetStats(t.Context(), &cariv1.GetStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := svc.search.Search(t.Context(), &cariv1.SearchRequest{Query: "volcano", Type: cariv1.SearchType_SEARCH_TYPE_NEURAL})
	if err != nil {
		t.Fatal(err)
	}
	want := &cariv1.EmbeddingModel{Provider: "local", Name: "letters", Dimension: 3, Id: space.Model}
	for what, got := range map[string]*cariv1.EmbeddingModel{
		"GetStats": stats.GetEmbeddingModel(), "GetStats generation": stats.GetGenerations()[0].GetEmbeddingModel(), "Search": resp.GetEmbeddingModel(),
	} {
		if !proto.Equal(got, want) {
			t.Errorf("%s names the model %v, want %v", what, got, want)
		}
	}
	// What cari stats prints beside the server is what it prints offline.
	own, err := st.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := StatsOf(stats); got != own {
		t.Errorf("StatsOf(GetStats) = %+v, want the store's own %+v", got, own)
	}
	if got := StatsOf(nil); got != (store.Stats{}) {
		t.Errorf("StatsOf(nil) = %+v, want zero", got)
	}
	if n := len(stats.GetExampleQueries()); n != len(servertest.Docs) {
		t.Errorf("GetStats offers %q, want the %d documents' titles", stats.GetExampleQueries(), len(servertest.Docs))
	}
}

// GetStats says when a write last changed the index, and a delete through
// IndexService moves it; the serving generation's create_time stays.
func TestStatsLastWriteTime(t *testing.T) {
	st, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := newServices(Options{Store: st, StoreName: "local", Searcher: searcher.New(st, searcher.Options{})})
	stats := func() *cariv1.GetStatsResponse {
		t.Helper()
		resp, err := svc.index.GetStats(t.Context(), &cariv1.GetStatsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if before := stats(); before.LastWriteTime != nil {
		t.Errorf("empty index: last_write_time %v, want unset", before.GetLastWriteTime().AsTime())
	}
	ix, err := indexer.New(st, indexer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range servertest.Docs {
		d.Language = "en" // no language detector to load
		if err := ix.Add(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	indexed := stats()
	if indexed.LastWriteTime == nil {
		t.Fatal("GetStats after indexing: last_write_time unset")
	}
	start := time.Now()
	if _, err := svc.index.DeleteDocuments(t.Context(), &cariv1.DeleteDocumentsRequest{Ids: []string{"jazz"}}); err != nil {
		t.Fatal(err)
	}
	deleted := stats()
	if got := deleted.GetLastWriteTime().AsTime(); got.Before(start) || got.Before(indexed.GetLastWriteTime().AsTime()) {
		t.Errorf("after a delete: last_write_time %v, want at or after the delete began (%v)", got, start)
	}
	if a, b := indexed.GetGenerations()[0].GetCreateTime(), deleted.GetGenerations()[0].GetCreateTime(); !proto.Equal(a, b) {
		t.Errorf("a delete moved the generation's create_time from %v to %v", a.AsTime(), b.AsTime())
	}
}
