package rerank

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/indexer/corpus"
	"github.com/cari-search/cari/indexer/local"
	"github.com/cari-search/cari/searcher"
)

// BenchmarkLearnedRerankSciFact measures what the embedded re-ranker adds
// to a hybrid search of SciFact with the default static model: loading the
// top 50 candidates, computing their match features and scoring them with
// the shipped model (the "rerank" stage timing), with a fresh query each
// time and no score cache. It skips without ../shared/datasets or the
// model from make models.
func BenchmarkLearnedRerankSciFact(b *testing.B) {
	store, emb, queries := sciFactStack(b)
	m, err := LoadModel("")
	if err != nil {
		b.Fatal(err)
	}
	s := searcher.New(store, searcher.Options{Embedder: emb, Model: emb.Model().ID(),
		Fusion:   searcher.Fusion{Method: searcher.FusionScore, Alpha: 0.05, Candidates: 100},
		Reranker: NewLearned(m), Rerank: searcher.RerankOptions{TopN: 50, CacheSize: -1}})
	ctx := context.Background()
	var stage []time.Duration
	n := 0
	for b.Loop() {
		q := queries[n%len(queries)]
		n++
		resp, err := s.Search(ctx, searcher.Query{Text: q.Text, Type: searcher.TypeHybrid, NumResults: 10})
		if err != nil {
			b.Fatal(err)
		}
		if !resp.Reranked {
			b.Fatalf("not re-ranked: %s", resp.RerankSkipped)
		}
		for _, t := range resp.Timings {
			if t.Stage == "rerank" {
				stage = append(stage, t.Duration)
			}
		}
	}
	slices.Sort(stage)
	b.ReportMetric(float64(stage[len(stage)/2].Microseconds())/1000, "rerank-p50-ms")
	b.ReportMetric(float64(stage[len(stage)*99/100].Microseconds())/1000, "rerank-p99-ms")
}

// sciFactStack indexes SciFact with the default static model, as cari index
// does, or skips when the collection or the model is absent.
func sciFactStack(b *testing.B) (*local.Store, *embeddings.Provider, []evaluation.Query) {
	b.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "datasets", "scifact")
	model := filepath.Join("..", "..", "models", embeddings.DefaultStaticModel)
	for _, p := range []string{filepath.Join(dir, "corpus.jsonl.gz"), model} {
		if _, err := os.Stat(p); err != nil {
			b.Skipf("needs %s (../shared/datasets and make models)", p)
		}
	}
	ctx := context.Background()
	emb, err := embeddings.New(ctx, embeddings.Config{Model: model})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { emb.Close() })
	info := emb.Model()
	s, err := local.Open(b.TempDir(), local.Options{Vectors: local.VectorSpace{Model: info.ID(), Dim: info.Dim}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ix, err := indexer.New(s, indexer.Options{Embedder: emb})
	if err != nil {
		b.Fatal(err)
	}
	r, err := corpus.Open(filepath.Join(dir, "corpus.jsonl.gz"))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for rec, err := range r.All() {
		if err != nil {
			b.Fatal(err)
		}
		if err := ix.Add(ctx, cari.Document{ID: rec.ID, Title: rec.Title, Text: rec.Text}); err != nil {
			b.Fatal(err)
		}
	}
	if err := ix.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	queries, err := evaluation.LoadQueries(filepath.Join(dir, "queries.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	return s, emb, queries
}
