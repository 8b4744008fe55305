package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/searcher/rerank"
)

// benchMarker marks a data directory that cari bench built, the only kind
// --rebuild may delete.
const benchMarker = "cari-bench"

// benchOptions are cari bench's flags besides the stack's.
type benchOptions struct {
	corpusPath, queriesPath, annPath string
	cpuProfile, language             string
	rebuild, keywordIndex, asJSON    bool
	warmup, reps, maxQueries         int
	topK, workers                    int
	modes                            []string
}

// benchReport is what cari bench prints: one index, its cost, and the
// latency of each kind of search on it.
type benchReport struct {
	Corpus string `json:"corpus"`
	// Language is --language: the language a build took the documents
	// to be in instead of detecting it ("" when it detected).
	Language  string `json:"language,omitempty"`
	Documents int64  `json:"documents"`
	Passages  int64  `json:"passages"`
	Model     string `json:"model,omitempty"`
	Cores     int    `json:"cores"`
	DiskBytes int64  `json:"disk_bytes"`
	// RSSBytes is the resident memory with the index open (and, when the
	// run built it, just built), before any search.
	RSSBytes int64 `json:"rss_bytes"`
	// PeakRSSBytes is the process's high-water mark at the end of the run.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// Index is set when this run built the index.
	Index    *indexFigures   `json:"index,omitempty"`
	Searches []searchFigures `json:"searches"`
	// VectorRecall10 is the share of vector-index results among the exact
	// top 10 documents (cosine over every passage), set with --ann.
	VectorRecall10 *float64 `json:"vector_recall@10,omitempty"`
}

// indexFigures are the indexing throughput of one build.
type indexFigures struct {
	Seconds       float64 `json:"seconds"`
	DocsPerSecond float64 `json:"docs_per_second"`
	// The same corpus into a keyword-only store (--keyword-index).
	KeywordOnlySeconds       float64 `json:"keyword_only_seconds,omitempty"`
	KeywordOnlyDocsPerSecond float64 `json:"keyword_only_docs_per_second,omitempty"`
}

func newBenchCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure indexing throughput, search latency, memory and disk of an index",
		Long: `Bench builds an index of --corpus in --data (or opens the one there), then
times searches of every query in --queries: warm-up queries first, then --reps
passes, one query at a time, for the median and 99th percentile latency, and
one more pass with --workers in parallel for the throughput.

Modes: keyword, vector, hybrid and rerank go through the searcher as a search
request does (query embedding, fusion, loading the top documents); keyword-index
and vector-index ask the store alone for --top-k ids, the work a peer such as
SQLite FTS5 or FAISS does (the query vector is embedded before timing).

With --ann, a build also writes the passage vectors, the query vectors and the
exact top k of each query (the CARIANN1 layout scripts/ann_faiss_bench.py
reads), and the recall@10 of vector-index is measured against exact search.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			if err := o.validate(); err != nil {
				return err
			}
			rep, err := runBench(cmd, stackF, o, log)
			if err != nil {
				return err
			}
			if o.asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			return printBench(cmd.OutOrStdout(), rep)
		},
	}
	stackF.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&o.corpusPath, "corpus", "", "corpus.jsonl(.gz) to index when --data holds no index (or with --rebuild)")
	f.StringVar(&o.queriesPath, "queries", "", "queries.jsonl whose texts are searched (required)")
	f.StringVar(&o.annPath, "ann", "", "vector file: written by a build, read by later runs, for the vector-index recall and FAISS")
	f.BoolVar(&o.rebuild, "rebuild", false, "delete the index in --data (only one cari bench built) and build it again")
	f.BoolVar(&o.keywordIndex, "keyword-index", true, "when building, also index the corpus without embeddings (into a temporary directory) for the keyword-only throughput")
	f.BoolVar(&o.asJSON, "json", false, "print the figures as JSON")
	f.IntVar(&o.warmup, "warmup", 50, "untimed queries before each mode")
	f.IntVar(&o.reps, "reps", 3, "timed passes over the queries per mode")
	f.IntVar(&o.maxQueries, "max-queries", 300, "use at most this many queries, the first in the file")
	f.IntVar(&o.topK, "top-k", 10, "results per search")
	f.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "parallel searches of the throughput pass")
	f.StringVar(&o.language, "language", "", "when building, the language (BCP 47 tag) of the documents whose corpus line names none, as cari index --language: they skip language detection")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run (the build, if any, and the timed searches) to this file (go tool pprof)")
	f.StringSliceVar(&o.modes, "modes", []string{"keyword", "vector", "hybrid", "rerank", "keyword-index", "vector-index"}, "searches to time")
	cmd.AddCommand(newBenchGenerateCmd())
	return cmd
}

func (o benchOptions) validate() error {
	switch {
	case o.queriesPath == "":
		return errors.New("--queries is required")
	case checkLanguageTag(o.language) != nil:
		return fmt.Errorf("--language: %w", checkLanguageTag(o.language))
	case o.reps < 1:
		return fmt.Errorf("--reps must be at least 1, got %d", o.reps)
	case o.warmup < 0:
		return fmt.Errorf("--warmup must not be negative, got %d", o.warmup)
	case o.maxQueries < 1:
		return fmt.Errorf("--max-queries must be at least 1, got %d", o.maxQueries)
	case o.topK < 1:
		return fmt.Errorf("--top-k must be at least 1, got %d", o.topK)
	case o.workers < 1:
		return fmt.Errorf("--workers must be at least 1, got %d", o.workers)
	}
	for _, m := range o.modes {
		if _, ok := benchModes[m]; !ok {
			return fmt.Errorf("--modes: unknown mode %q (want keyword, vector, hybrid, rerank, keyword-index or vector-index)", m)
		}
	}
	return nil
}

func runBench(cmd *cobra.Command, stackF stackFlags, o benchOptions, log *slog.Logger) (*benchReport, error) {
	ctx := cmd.Context()
	queries, err := evaluation.LoadQueries(o.queriesPath)
	if err != nil {
		return nil, fmt.Errorf("--queries: %w", err)
	}
	if len(queries) == 0 {
		return nil, fmt.Errorf("--queries: %s holds no queries", o.queriesPath)
	}
	texts := make([]string, 0, min(len(queries), o.maxQueries))
	for _, q := range queries[:min(len(queries), o.maxQueries)] {
		texts = append(texts, q.Text)
	}
	build, err := prepareBenchDir(stackF.dataDir, o)
	if err != nil {
		return nil, err
	}
	rep := &benchReport{Corpus: o.corpusPath, Cores: runtime.GOMAXPROCS(0)}
	if build {
		rep.Language = o.language
	}
	stop, err := startCPUProfile(o.cpuProfile)
	if err != nil {
		return nil, err
	}
	defer stop()
	if build && o.keywordIndex {
		if rep.Index, err = keywordOnlyBuild(cmd, stackF, o.corpusPath, o.language, log); err != nil {
			return nil, err
		}
	}
	stackF.rerankCacheSize = -1 // every timed re-ranking computes its scores
	st, err := openStack(ctx, stackF, log)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if st.hasEmbedder() {
		rep.Model = st.embedder.Model().ID()
	}
	if build {
		if err := benchBuild(cmd, st, o, rep, log); err != nil {
			return nil, err
		}
	}
	stats, err := st.store.Stats(ctx)
	if err != nil {
		return nil, err
	}
	rep.Documents, rep.Passages, rep.DiskBytes = stats.Documents, stats.Chunks, stats.DiskBytes
	if rep.Documents == 0 {
		return nil, fmt.Errorf("--data %s holds no documents: give --corpus to build an index", stackF.dataDir)
	}
	runtime.GC()
	rep.RSSBytes, _ = processMemory()
	b := &benchRun{st: st, texts: texts, o: o, log: log}
	for _, m := range o.modes {
		fig, err := b.measure(ctx, m)
		if errors.Is(err, errModeUnavailable) {
			log.Warn("skipped mode", "mode", m, "reason", err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("mode %s: %w", m, err)
		}
		rep.Searches = append(rep.Searches, fig)
	}
	if err := stop(); err != nil {
		return nil, err
	}
	_, peak := processMemory()
	// The kernel updates the high-water mark lazily: it can trail a
	// resident size read earlier.
	rep.PeakRSSBytes = max(peak, rep.RSSBytes)
	if _, err := os.Stat(o.annPath + ".ids"); o.annPath != "" && err != nil {
		log.Warn("no recall measured: the vector file is written by the run that builds the index", "ann", o.annPath, "error", err)
	} else if o.annPath != "" && st.hasEmbedder() {
		r, err := b.vectorRecall(ctx, o.annPath)
		if err != nil {
			return nil, fmt.Errorf("--ann: %w", err)
		}
		rep.VectorRecall10 = &r
	}
	return rep, nil
}

// prepareBenchDir reports whether the run must build the index: when
// --data holds none, or with --rebuild (after deleting the old one).
func prepareBenchDir(dir string, o benchOptions) (bool, error) {
	entries, err := os.ReadDir(dir)
	exists := err == nil && len(entries) > 0
	if exists && o.rebuild {
		if _, err := os.Stat(filepath.Join(dir, benchMarker)); err != nil {
			return false, fmt.Errorf("--rebuild: %s was not built by cari bench (no %s file in it); delete it yourself or pick another --data", dir, benchMarker)
		}
		if err := os.RemoveAll(dir); err != nil {
			return false, fmt.Errorf("--rebuild: %w", err)
		}
		exists = false
	}
	if exists {
		return false, nil
	}
	if o.corpusPath == "" {
		return false, fmt.Errorf("--data %s holds no index: --corpus is required to build one", dir)
	}
	if _, err := os.Stat(o.corpusPath); err != nil {
		return false, fmt.Errorf("--corpus: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("--data: %w", err)
	}
	return true, os.WriteFile(filepath.Join(dir, benchMarker), []byte("built by cari bench; cari bench --rebuild may delete this directory\n"), 0o644)
}

// keywordOnlyBuild indexes the corpus without embeddings into a temporary
// directory beside --data and deletes it: the throughput of the keyword
// side alone.
func keywordOnlyBuild(cmd *cobra.Command, f stackFlags, corpusPath, language string, log *slog.Logger) (*indexFigures, error) {
	dir, err := os.MkdirTemp(filepath.Dir(filepath.Clean(f.dataDir)), "bench-keyword-only-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	f.dataDir, f.embed.provider, f.rerank.Kind = dir, "none", rerank.KindNone
	st, err := openStack(cmd.Context(), f, log)
	if err != nil {
		return nil, err
	}
	sum, err := indexCorpus(cmd, st.store, st.indexing, corpusPath, language, log)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("keyword-only build: %w", err)
	}
	s := sum.elapsed.Seconds()
	return &indexFigures{KeywordOnlySeconds: s, KeywordOnlyDocsPerSecond: float64(sum.indexed) / s}, nil
}

// benchBuild indexes the corpus into the opened stack, as cari index does,
// recording the passage vectors for --ann on the way.
func benchBuild(cmd *cobra.Command, st *stack, o benchOptions, rep *benchReport, log *slog.Logger) error {
	var w indexer.Writer = st.store
	var tee *vectorTee
	if o.annPath != "" && st.hasEmbedder() {
		var err error
		if tee, err = newVectorTee(st.store, o.annPath); err != nil {
			return fmt.Errorf("--ann: %w", err)
		}
		defer tee.abort()
		w = tee
	}
	sum, err := indexCorpus(cmd, w, st.indexing, o.corpusPath, o.language, log)
	if err != nil {
		return err
	}
	if tee != nil {
		if err := tee.finish(); err != nil {
			return fmt.Errorf("--ann: %w", err)
		}
	}
	if rep.Index == nil {
		rep.Index = &indexFigures{}
	}
	rep.Index.Seconds = sum.elapsed.Seconds()
	rep.Index.DocsPerSecond = float64(sum.indexed) / sum.elapsed.Seconds()
	return nil
}

// printBench writes the report as a table.
func printBench(out io.Writer, r *benchReport) error {
	fmt.Fprintf(out, "corpus %s: %d documents, %d passages, model %s, %d cores\n",
		r.Corpus, r.Documents, r.Passages, orNone(r.Model), r.Cores)
	if r.Index != nil {
		fmt.Fprintf(out, "index: %.1f s, %.0f docs/s", r.Index.Seconds, r.Index.DocsPerSecond)
		if r.Language != "" {
			fmt.Fprintf(out, " (language %s given, not detected)", r.Language)
		}
		if r.Index.KeywordOnlySeconds > 0 {
			fmt.Fprintf(out, "; keyword only %.1f s, %.0f docs/s", r.Index.KeywordOnlySeconds, r.Index.KeywordOnlyDocsPerSecond)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "disk %.1f MiB, RSS %.1f MiB (peak %.1f MiB)\n", mib(r.DiskBytes), mib(r.RSSBytes), mib(r.PeakRSSBytes))
	if r.VectorRecall10 != nil {
		fmt.Fprintf(out, "vector-index recall@10 against exact search: %.4f\n", *r.VectorRecall10)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tqueries\tp50 ms\tp99 ms\tmean ms\tq/s 1 thread\tq/s parallel\t")
	for _, s := range r.Searches {
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.0f\t%.0f (%d)\t\n", s.Mode, s.Queries, s.P50Ms, s.P99Ms, s.MeanMs, s.QPS, s.ParallelQPS, s.Workers)
	}
	return tw.Flush()
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// processMemory returns the resident set size and its high-water mark, read
// from /proc/self/status; zeros where that is not available.
func processMemory() (rss, peak int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "VmRSS: %d kB", &kb); err == nil {
			rss = kb << 10
		} else if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); err == nil {
			peak = kb << 10
		}
	}
	return rss, max(peak, rss)
}

// startCPUProfile starts profiling into path, if set; the returned function
// stops it once and reports a failure to write the file.
func startCPUProfile(path string) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	var once sync.Once
	var cerr error
	return func() error {
		once.Do(func() {
			pprof.StopCPUProfile()
			cerr = f.Close()
		})
		return cerr
	}, nil
}
