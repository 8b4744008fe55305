package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/evaluation/modes"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/store"
)

// Modes are the searches a Run can time: keyword, vector, hybrid and rerank
// go through the searcher as a search request does; keyword-index and
// vector-index ask the store alone, the work a peer such as SQLite FTS5 or
// FAISS does.
var Modes = []string{"keyword", "vector", "hybrid", "rerank", "keyword-index", "vector-index"}

// ErrModeUnavailable means the index cannot run a mode (no embedder, no
// re-ranker); cari bench skips the mode with a warning.
var ErrModeUnavailable = errors.New("mode unavailable")

// Options say how searches are timed. DefaultOptions holds the defaults.
type Options struct {
	// Warmup queries run untimed before each mode.
	Warmup int
	// Reps are the timed passes over the queries per mode.
	Reps int
	// MaxQueries bounds the queries used, the first in the file.
	MaxQueries int
	// TopK is the results per search.
	TopK int
	// Workers search at once in the throughput pass.
	Workers int
	// Modes are the searches to time.
	Modes []string
}

// Validate checks the options; the error is a *cari.FieldError naming
// the option at fault as the API would ("max_queries").
func (o Options) Validate() error {
	for _, c := range []struct {
		field    string
		val, min int
	}{{"reps", o.Reps, 1}, {"warmup", o.Warmup, 0}, {"max_queries", o.MaxQueries, 1}, {"top_k", o.TopK, 1}, {"workers", o.Workers, 1}} {
		if c.val < c.min {
			return &cari.FieldError{Field: c.field, Reason: fmt.Sprintf("must be at least %d, got %d", c.min, c.val)}
		}
	}
	for _, m := range o.Modes {
		if !slices.Contains(Modes, m) {
			return &cari.FieldError{Field: "modes", Reason: fmt.Sprintf("unknown mode %q (want %s)", m, strings.Join(Modes, ", "))}
		}
	}
	return nil
}

// DefaultOptions are cari bench's defaults.
func DefaultOptions() Options {
	return Options{Warmup: 50, Reps: 3, MaxQueries: 300, TopK: 10, Workers: runtime.GOMAXPROCS(0), Modes: slices.Clone(Modes)}
}

// Figures are one mode's latency and throughput.
type Figures struct {
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

// Index is the store a Run asks directly for the -index modes.
type Index interface {
	SearchKeyword(ctx context.Context, q store.KeywordQuery) ([]store.Hit, error)
	SearchVector(ctx context.Context, q store.VectorQuery) ([]store.Hit, error)
}

// QueryEmbedder embeds a query the way the searcher does.
type QueryEmbedder interface {
	EmbedQuery(ctx context.Context, text string) ([]float32, error)
}

// Run times searches of Texts on an open index.
type Run struct {
	Searcher *searcher.Searcher
	Index    Index
	// Embedder is nil when the index is keyword-only.
	Embedder QueryEmbedder
	// Reranks says whether a re-ranker is configured.
	Reranks bool
	Texts   []string
	Options Options
	// Log receives a line per timed mode; nil discards it.
	Log *slog.Logger

	qvecs [][]float32 // query vectors, embedded once for vector-index
}

// search returns the function that runs query i of mode.
func (b *Run) search(ctx context.Context, mode string) (func(i int) error, error) {
	k := b.Options.TopK
	switch mode {
	case "keyword-index":
		return func(i int) error {
			_, err := b.Index.SearchKeyword(ctx, store.KeywordQuery{Text: b.Texts[i], Limit: k})
			return err
		}, nil
	case "vector-index":
		qvecs, err := b.QueryVectors(ctx)
		if err != nil {
			return nil, err
		}
		return func(i int) error {
			_, err := b.Index.SearchVector(ctx, store.VectorQuery{Vector: qvecs[i], Limit: k})
			return err
		}, nil
	}
	typ, rerank, err := modes.Parse(mode)
	if err != nil {
		return nil, err
	}
	if typ != searcher.TypeKeyword && b.Embedder == nil {
		return nil, fmt.Errorf("%w: %s search needs an embedding model", ErrModeUnavailable, mode)
	}
	if rerank && !b.Reranks {
		return nil, fmt.Errorf("%w: --reranker none", ErrModeUnavailable)
	}
	return func(i int) error {
		resp, err := b.Searcher.Search(ctx, searcher.Query{Text: b.Texts[i], Type: typ, NumResults: k, Rerank: &rerank})
		if err != nil {
			return err
		}
		if rerank && !resp.Reranked && len(resp.Results) > 0 {
			return fmt.Errorf("query %d was not re-ranked: %s", i, resp.RerankSkipped)
		}
		return nil
	}, nil
}

// QueryVectors embeds the texts once and returns their vectors.
func (b *Run) QueryVectors(ctx context.Context) ([][]float32, error) {
	if b.Embedder == nil {
		return nil, fmt.Errorf("%w: vector search needs an embedding model", ErrModeUnavailable)
	}
	if b.qvecs != nil {
		return b.qvecs, nil
	}
	for _, t := range b.Texts {
		v, err := b.Embedder.EmbedQuery(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("embed query %q: %w", t, err)
		}
		b.qvecs = append(b.qvecs, v)
	}
	return b.qvecs, nil
}

// Measure warms up, times Reps passes one query at a time, then one pass
// with Workers in parallel.
func (b *Run) Measure(ctx context.Context, mode string) (Figures, error) {
	run, err := b.search(ctx, mode)
	if err != nil {
		return Figures{}, err
	}
	n := len(b.Texts)
	for i := range b.Options.Warmup {
		if err := run(i % n); err != nil {
			return Figures{}, err
		}
	}
	lat := make([]time.Duration, 0, n*b.Options.Reps)
	for range b.Options.Reps {
		for i := range n {
			start := time.Now()
			if err := run(i); err != nil {
				return Figures{}, err
			}
			lat = append(lat, time.Since(start))
		}
	}
	fig := LatencyFigures(lat)
	fig.Mode, fig.Queries, fig.Reps, fig.Workers = mode, n, b.Options.Reps, b.Options.Workers
	if fig.ParallelQPS, err = ParallelThroughput(run, n, b.Options.Workers); err != nil {
		return Figures{}, err
	}
	if b.Log != nil {
		b.Log.Info("timed", "mode", mode, "p50_ms", fig.P50Ms, "p99_ms", fig.P99Ms, "parallel_qps", fig.ParallelQPS)
	}
	return fig, nil
}

// LatencyFigures summarises latencies: median, 99th percentile (nearest
// rank), mean and the one-thread throughput.
func LatencyFigures(lat []time.Duration) Figures {
	if len(lat) == 0 {
		return Figures{}
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	mean := sum / time.Duration(len(s))
	return Figures{
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

// ParallelThroughput runs queries 0..n-1 once on workers goroutines and
// returns queries per second.
func ParallelThroughput(run func(int) error, n, workers int) (float64, error) {
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
