package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cari-search/cari/store"

	"github.com/cari-search/cari/searcher"
)

// benchModes are the searches cari bench can time.
var benchModes = map[string]struct{}{
	"keyword": {}, "vector": {}, "hybrid": {}, "rerank": {}, "keyword-index": {}, "vector-index": {},
}

// errModeUnavailable means the stack cannot run a mode (no embedder, no
// re-ranker); the mode is skipped with a warning.
var errModeUnavailable = errors.New("mode unavailable")

// searchFigures are one mode's latency and throughput.
type searchFigures struct {
	Mode    string  `json:"mode"`
	Queries int     `json:"queries"`
	Reps    int     `json:"reps"`
	P50Ms   float64 `json:"p50_ms"`
	P99Ms   float64 `json:"p99_ms"`
	MeanMs  float64 `json:"mean_ms"`
	// QPS is one thread's throughput, 1/mean latency.
	QPS float64 `json:"qps"`
	// ParallelQPS is the throughput of one pass with Workers searching at
	// once.
	ParallelQPS float64 `json:"parallel_qps"`
	Workers     int     `json:"workers"`
}

// benchRun times searches on an open stack.
type benchRun struct {
	st    *stack
	texts []string
	o     benchOptions
	log   *slog.Logger
	qvecs [][]float32 // query vectors, embedded once for vector-index
}

// search returns the function that runs query i of mode.
func (b *benchRun) search(ctx context.Context, mode string) (func(i int) error, error) {
	k := b.o.topK
	switch mode {
	case "keyword-index":
		return func(i int) error {
			_, err := b.st.store.SearchKeyword(ctx, store.KeywordQuery{Text: b.texts[i], Limit: k})
			return err
		}, nil
	case "vector-index":
		if err := b.embedQueries(ctx); err != nil {
			return nil, err
		}
		return func(i int) error {
			_, err := b.st.store.SearchVector(ctx, store.VectorQuery{Vector: b.qvecs[i], Limit: k})
			return err
		}, nil
	}
	typ := map[string]searcher.Type{"keyword": searcher.TypeKeyword, "vector": searcher.TypeNeural, "hybrid": searcher.TypeHybrid, "rerank": searcher.TypeHybrid}[mode]
	if typ != searcher.TypeKeyword && !b.st.hasEmbedder() {
		return nil, fmt.Errorf("%w: %s search needs an embedding model", errModeUnavailable, mode)
	}
	rerank := mode == "rerank"
	if rerank && b.st.reranker == nil {
		return nil, fmt.Errorf("%w: --reranker none", errModeUnavailable)
	}
	return func(i int) error {
		resp, err := b.st.searcher.Search(ctx, searcher.Query{Text: b.texts[i], Type: typ, NumResults: k, Rerank: &rerank})
		if err != nil {
			return err
		}
		if rerank && !resp.Reranked && len(resp.Results) > 0 {
			return fmt.Errorf("query %d was not re-ranked: %s", i, resp.RerankSkipped)
		}
		return nil
	}, nil
}

func (b *benchRun) embedQueries(ctx context.Context) error {
	if !b.st.hasEmbedder() {
		return fmt.Errorf("%w: vector search needs an embedding model", errModeUnavailable)
	}
	if b.qvecs != nil {
		return nil
	}
	for _, t := range b.texts {
		v, err := b.st.embedder.EmbedQuery(ctx, t)
		if err != nil {
			return fmt.Errorf("embed query %q: %w", t, err)
		}
		b.qvecs = append(b.qvecs, v)
	}
	return nil
}

// measure warms up, times --reps passes one query at a time, then one pass
// with --workers in parallel.
func (b *benchRun) measure(ctx context.Context, mode string) (searchFigures, error) {
	run, err := b.search(ctx, mode)
	if err != nil {
		return searchFigures{}, err
	}
	n := len(b.texts)
	for i := range b.o.warmup {
		if err := run(i % n); err != nil {
			return searchFigures{}, err
		}
	}
	lat := make([]time.Duration, 0, n*b.o.reps)
	for range b.o.reps {
		for i := range n {
			start := time.Now()
			if err := run(i); err != nil {
				return searchFigures{}, err
			}
			lat = append(lat, time.Since(start))
		}
	}
	fig := latencyFigures(lat)
	fig.Mode, fig.Queries, fig.Reps, fig.Workers = mode, n, b.o.reps, b.o.workers
	if fig.ParallelQPS, err = parallelThroughput(run, n, b.o.workers); err != nil {
		return searchFigures{}, err
	}
	b.log.Info("timed", "mode", mode, "p50_ms", fig.P50Ms, "p99_ms", fig.P99Ms, "parallel_qps", fig.ParallelQPS)
	return fig, nil
}

// latencyFigures summarises latencies: median, 99th percentile (nearest
// rank), mean and the one-thread throughput.
func latencyFigures(lat []time.Duration) searchFigures {
	if len(lat) == 0 {
		return searchFigures{}
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	mean := sum / time.Duration(len(s))
	return searchFigures{
		P50Ms:  ms(percentile(s, 0.50)),
		P99Ms:  ms(percentile(s, 0.99)),
		MeanMs: ms(mean),
		QPS:    float64(len(s)) / sum.Seconds(),
	}
}

// percentile is the nearest-rank percentile p (0 to 1) of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// parallelThroughput runs queries 0..n-1 once on workers goroutines and
// returns queries per second.
func parallelThroughput(run func(int) error, n, workers int) (float64, error) {
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || errs[w] != nil {
					return
				}
				errs[w] = run(i)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return float64(n) / elapsed.Seconds(), nil
}
