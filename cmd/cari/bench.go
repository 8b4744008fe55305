package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/evaluation/bench"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/internal/flagconfig"
)

// benchOptions are cari bench's flags besides the stack's.
type benchOptions struct {
	bench.Options
	corpusPath, queriesPath, annPath string
	cpuProfile, language             string
	rebuild, keywordIndex, asJSON    bool
}

func newBenchCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	o := benchOptions{Options: bench.DefaultOptions()}
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
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
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
			return rep.WriteTable(cmd.OutOrStdout())
		}),
	}
	stackF.register(cmd.Flags(), embeds|searches|reranks)
	f := cmd.Flags()
	f.StringVar(&o.corpusPath, "corpus", "", "corpus.jsonl(.gz) to index when --data holds no index (or with --rebuild)")
	f.StringVar(&o.queriesPath, "queries", "", "queries.jsonl whose texts are searched (required)")
	f.StringVar(&o.annPath, "ann", "", "vector file: written by a build, read by later runs, for the vector-index recall and FAISS")
	f.BoolVar(&o.rebuild, "rebuild", false, "delete the index in --data (only one cari bench built) and build it again")
	f.BoolVar(&o.keywordIndex, "keyword-index", true, "when building, also index the corpus without embeddings (into a temporary directory) for the keyword-only throughput")
	f.BoolVar(&o.asJSON, "json", false, "print the figures as JSON")
	d := bench.DefaultOptions()
	f.IntVar(&o.Warmup, "warmup", d.Warmup, "untimed queries before each mode")
	f.IntVar(&o.Reps, "reps", d.Reps, "timed passes over the queries per mode")
	f.IntVar(&o.MaxQueries, "max-queries", d.MaxQueries, "use at most this many queries, the first in the file")
	f.IntVar(&o.TopK, "top-k", d.TopK, "results per search")
	f.IntVar(&o.Workers, "workers", d.Workers, "parallel searches of the throughput pass")
	f.StringVar(&o.language, "language", "", "when building, the language (BCP 47 tag) of the documents whose corpus line names none, as cari index --language: they skip language detection")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run (the build, if any, and the timed searches) to this file (go tool pprof)")
	f.StringSliceVar(&o.Modes, "modes", d.Modes, "searches to time")
	cmd.AddCommand(newBenchGenerateCmd())
	return cmd
}

func (o benchOptions) validate() error {
	if o.queriesPath == "" {
		return errors.New("--queries is required")
	}
	if _, err := cari.LanguageTag(o.language); err != nil {
		return fmt.Errorf("--language: %w", err)
	}
	return flagconfig.FieldError(o.Options.Validate(), nil)
}

func runBench(cmd *cobra.Command, stackF stackFlags, o benchOptions, log *slog.Logger) (*bench.Report, error) {
	ctx := cmd.Context()
	texts, err := bench.LoadQueryTexts(o.queriesPath, o.MaxQueries)
	if err != nil {
		return nil, fmt.Errorf("--queries: %w", err)
	}
	build, err := bench.PrepareDir(stackF.dataDir, o.corpusPath, o.rebuild)
	if err != nil {
		return nil, err
	}
	rep := &bench.Report{Corpus: o.corpusPath, Cores: runtime.GOMAXPROCS(0)}
	if build {
		rep.Language = o.language
	}
	stop, err := bench.StartCPUProfile(o.cpuProfile)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	defer stop()
	if build && o.keywordIndex {
		load, bar := loadOptions(o.language, log)
		if rep.Index, err = bench.BuildKeywordOnly(ctx, stackF.dataDir, o.corpusPath, load); err != nil {
			return nil, err
		}
		bar.Finish()
	}
	stackF.search.Rerank.CacheSize = -1 // every timed re-ranking computes its scores
	st, err := openStack(ctx, stackF, log)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if st.Embedder != nil {
		rep.Model = st.Embedder.Model().ID()
	}
	if build {
		fig, err := buildCorpus(cmd, st.Local, st.Indexing, o.corpusPath, o.annPath, o.language, log)
		if err != nil {
			return nil, err
		}
		if rep.Index == nil {
			rep.Index = &bench.IndexFigures{}
		}
		rep.Index.Seconds, rep.Index.DocsPerSecond = fig.Seconds, fig.DocsPerSecond
	}
	stats, err := st.Local.Stats(ctx)
	if err != nil {
		return nil, err
	}
	rep.Documents, rep.Passages, rep.DiskBytes = stats.Documents, stats.Chunks, stats.DiskBytes
	if rep.Documents == 0 {
		return nil, fmt.Errorf("--data %s holds no documents: give --corpus to build an index", stackF.dataDir)
	}
	b := &bench.Run{Searcher: st.Searcher, Index: st.Local, Reranks: st.Reranker != nil, Texts: texts, Options: o.Options, Log: log}
	if st.Embedder != nil {
		b.Embedder = st.Embedder
	}
	return rep, b.MeasureAll(ctx, rep, o.annPath, stop)
}

// buildCorpus is bench.Build with cari index's progress display.
func buildCorpus(cmd *cobra.Command, w indexer.Writer, opts indexer.Options, corpus, annPath, language string, log *slog.Logger) (bench.IndexFigures, error) {
	load, bar := loadOptions(language, log)
	fig, err := bench.Build(cmd.Context(), w, opts, corpus, annPath, load)
	if err == nil {
		bar.Finish()
	}
	return fig, err
}
