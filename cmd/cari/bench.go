package main

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/evaluation/bench"
	"github.com/cari-search/cari/internal/flagconfig"
)

func newBenchCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	o := bench.Setup{Options: bench.DefaultOptions()}
	var asJSON bool
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
			if err := flagconfig.FieldError(o.Validate(), nil); err != nil {
				return err
			}
			o.DataDir, stackF.search.Rerank.CacheSize = stackF.dataDir, -1 // every timed re-ranking computes its scores
			rep, err := o.Run(cmd.Context(), func(ctx context.Context) (*stack, error) { return openStack(ctx, stackF, log) }, log)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			return rep.WriteTable(cmd.OutOrStdout())
		}),
	}
	stackF.register(cmd.Flags(), embeds|searches|reranks)
	f := cmd.Flags()
	f.StringVar(&o.Corpus, "corpus", "", "corpus.jsonl(.gz) to index when --data holds no index (or with --rebuild)")
	f.StringVar(&o.Queries, "queries", "", "queries.jsonl whose texts are searched (required)")
	f.StringVar(&o.ANN, "ann", "", "vector file: written by a build, read by later runs, for the vector-index recall and FAISS")
	f.BoolVar(&o.Rebuild, "rebuild", false, "delete the index in --data (only one cari bench built) and build it again")
	f.BoolVar(&o.KeywordIndex, "keyword-index", true, "when building, also index the corpus without embeddings (into a temporary directory) for the keyword-only throughput")
	f.BoolVar(&asJSON, "json", false, "print the figures as JSON")
	d := bench.DefaultOptions()
	f.IntVar(&o.Warmup, "warmup", d.Warmup, "untimed queries before each mode")
	f.IntVar(&o.Reps, "reps", d.Reps, "timed passes over the queries per mode")
	f.IntVar(&o.MaxQueries, "max-queries", d.MaxQueries, "use at most this many queries, the first in the file")
	f.IntVar(&o.TopK, "top-k", d.TopK, "results per search")
	f.IntVar(&o.Workers, "workers", d.Workers, "parallel searches of the throughput pass")
	f.StringVar(&o.Language, "language", "", "when building, the language (BCP 47 tag) of the documents whose corpus line names none, as cari index --language: they skip language detection")
	f.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the run (the build, if any, and the timed searches) to this file (go tool pprof)")
	f.StringSliceVar(&o.Modes, "modes", d.Modes, "searches to time")
	cmd.AddCommand(newBenchGenerateCmd())
	return cmd
}
