package main

import (
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/collections"
	"github.com/cari-search/cari/indexer/reindex"
	"github.com/cari-search/cari/server"
)

// reindexFlags are cari reindex's own flags.
type reindexFlags struct {
	collections.ReindexOptions
	rollback bool
	to       string
}

func newReindexCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	var f reindexFlags
	cmd := &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the index into a new generation and swap it in, or roll back",
		Long: `Reindex builds a new index generation beside the serving one, from exactly one
source, and then points the serving alias (DATA/CURRENT) at it atomically:

  --corpus PATH   a BEIR corpus.jsonl or corpus.jsonl.gz
  --warc GLOB     WARC files (.warc or .warc.gz), e.g. 'crawl/*.warc.gz'
  --dir DIR       a directory of .html, .txt and .md files
  --stored        the serving generation's own documents, re-chunked,
                  re-embedded and re-analysed (after a change of model or
                  analyzer)

A killed reindex resumes where it stopped when run again with the same source.
The replaced generation is kept for --rollback; --keep says how many replaced
generations are kept (cari gc removes them on demand).

--rollback points the alias back at the previous generation (or --to NAME).`,
		Args: cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
			if !f.rollback {
				if err := f.Validate(); err != nil {
					return err
				}
			}
			stackF.rebuild, stackF.existing = true, f.rollback
			st, err := openStack(cmd.Context(), stackF, log)
			if err != nil {
				return err
			}
			defer st.Close()
			if f.rollback {
				return st.Rollback(f.to, cmd.OutOrStdout())
			}
			return st.Reindex(cmd.Context(), f.ReindexOptions, cmd.OutOrStdout())
		}),
	}
	stackF.register(cmd.Flags(), embeds)
	fs := cmd.Flags()
	fs.StringVar(&f.Sources.Corpus, "corpus", "", "source: a BEIR corpus.jsonl or corpus.jsonl.gz")
	fs.StringVar(&f.Sources.WARC, "warc", "", "source: a WARC file or a glob of them")
	fs.StringVar(&f.Sources.Dir, "dir", "", "source: a directory of HTML, text and Markdown files")
	fs.BoolVar(&f.Sources.Stored, "stored", false, "source: the serving generation's stored documents")
	fs.BoolVar(&f.rollback, "rollback", false, "point the serving alias back at the previous generation instead of reindexing")
	fs.StringVar(&f.to, "to", "", "with --rollback: the generation to serve (default: the one before the serving one)")
	fs.IntVar(&f.BatchSize, "batch", reindex.DefaultBatchSize, "source records per atomic commit")
	fs.IntVar(&f.Workers, "workers", 0, "records converted to documents at once (default: one per core)")
	fs.Float64Var(&f.MaxFailedFraction, "max-failed", reindex.DefaultMaxFailedFraction, "share of source records that may fail before the job gives up (0 to 1)")
	fs.DurationVar(&f.ProgressInterval, "progress-interval", 5*time.Second, "time between progress lines when stderr is not a terminal")
	fs.IntVar(&f.Keep, "keep", reindex.DefaultKeep, "replaced generations to keep for rollback after the swap; -1 keeps all")
	fs.BoolVar(&stackF.embedCache, "embed-cache", false, "cache the static model's vectors too in DATA/embcache (onnx and openai always are)")
	return cmd
}

func newGCCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	var keep int
	var list bool
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Remove replaced index generations no longer needed for rollback",
		Long: `gc removes the generations a reindex replaced, keeping the newest --keep of them
for cari reindex --rollback, and unfinished builds that can no longer resume.
The serving generation and a resumable build are never removed.`,
		Args: cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
			stackF.rebuild, stackF.existing = true, true
			st, err := openStack(cmd.Context(), stackF, log)
			if err != nil {
				return err
			}
			defer st.Close()
			return st.CollectGenerations(cmd.Context(), keep, list, cmd.OutOrStdout())
		}),
	}
	stackF.register(cmd.Flags(), 0) // gc reads manifests only
	cmd.Flags().IntVar(&keep, "keep", 0, "replaced generations to keep for rollback")
	cmd.Flags().BoolVar(&list, "list", false, "only list the generations")
	return cmd
}

// reindexOptions configures IndexService.Reindex for cari serve: builds
// beside the serving generation (a local directory, or a Qdrant collection
// under the building alias), swapped in atomically, replaced generations
// kept for rollback by GC.
func reindexOptions(st *stack, f *serveFlags) server.ReindexOptions {
	o := f.reindex
	o.Target, o.GC, o.Stored = st.Builds, st.GC, st.Stored
	if st.Embedder != nil {
		o.Model = st.Embedder.Model().Name
	}
	return o
}
