package rerank

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cari-search/cari/internal/scifacttest"
	"github.com/cari-search/cari/searcher"
)

// BenchmarkLearnedRerankSciFact measures what the embedded re-ranker adds
// to a hybrid search of SciFact with the default static model: loading the
// top 50 candidates, computing their match features and scoring them with
// the shipped model (the "rerank" stage timing), with a fresh query each
// time and no score cache. It skips without ../shared/datasets or the
// model from make models.
func BenchmarkLearnedRerankSciFact(b *testing.B) {
	store, emb, queries := scifacttest.Stack(b, filepath.Join("..", ".."))
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
