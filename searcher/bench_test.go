package searcher

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/cari-search/cari/internal/scifacttest"
)

// BenchmarkSearchSciFact measures one search end to end through the real
// searcher (10 results, no contents), single goroutine, cycling through
// the 300 SciFact test queries, and reports the median latency.
func BenchmarkSearchSciFact(b *testing.B) {
	store, emb, queries := scifacttest.Stack(b, "..")
	plain := New(store, Options{Embedder: emb, Fusion: Fusion{Method: FusionScore, Alpha: 0.05}})
	for _, tc := range []struct {
		name string
		typ  Type
	}{{"keyword", TypeKeyword}, {"vector", TypeNeural}, {"hybrid", TypeHybrid}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			var lat []time.Duration
			n := 0
			for b.Loop() {
				q := queries[n%len(queries)]
				n++
				start := time.Now()
				if _, err := plain.Search(ctx, Query{Text: q.Text, Type: tc.typ, NumResults: 10}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkRerankStageSciFact measures what the re-ranking stage adds to a
// hybrid search on SciFact: loading the top 50 candidates, computing their
// match features and scoring them with the learned model. It reports the
// median of the "rerank" stage timing, with a fresh query each time (no
// score cache hits).
func BenchmarkRerankStageSciFact(b *testing.B) {
	// The learned model lives in searcher/rerank, which imports this
	// package; a linear scorer over the same match features stands in with
	// the same cost profile (features are the expensive part).
	store, emb, queries := scifacttest.Stack(b, "..")
	m := featureScorer{}
	s := New(store, Options{Embedder: emb, Fusion: Fusion{Method: FusionScore, Alpha: 0.05}, Reranker: m,
		Rerank: RerankOptions{CacheSize: -1}})
	ctx := context.Background()
	var stage []time.Duration
	n := 0
	for b.Loop() {
		q := queries[n%len(queries)]
		n++
		resp, err := s.Search(ctx, Query{Text: q.Text, Type: TypeHybrid, NumResults: 10})
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
	sort.Slice(stage, func(i, j int) bool { return stage[i] < stage[j] })
	b.ReportMetric(float64(stage[len(stage)/2].Microseconds())/1000, "rerank-p50-ms")
	b.ReportMetric(float64(stage[len(stage)*99/100].Microseconds())/1000, "rerank-p99-ms")
}

// featureScorer scores candidates from their match features, as the learned
// linear model does.
type featureScorer struct{}

func (featureScorer) Name() string { return "bench/features" }

func (featureScorer) Rerank(_ context.Context, _ string, cands []Candidate) ([]float64, error) {
	out := make([]float64, len(cands))
	for i, c := range cands {
		m := c.Match
		out[i] = m.BM25 + m.Coverage + m.TitleCoverage + m.Proximity - m.FirstMatch + m.OrderedPairs + c.Retrieval.VectorScore
	}
	return out, nil
}
