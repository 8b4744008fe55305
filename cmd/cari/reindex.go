package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/indexer/reindex"
	"github.com/cari-search/cari/server"
)

// reindexFlags are cari reindex's own flags.
type reindexFlags struct {
	src      reindex.Sources
	rollback bool
	to       string
	// opts binds the job's settings; runReindex adds the rest.
	opts             reindex.Options
	keep             int
	progressInterval time.Duration
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
			if f.rollback {
				return runRollback(cmd, stackF, f, log)
			}
			return runReindex(cmd, stackF, f, log)
		}),
	}
	stackF.register(cmd.Flags(), embeds)
	fs := cmd.Flags()
	fs.StringVar(&f.src.Corpus, "corpus", "", "source: a BEIR corpus.jsonl or corpus.jsonl.gz")
	fs.StringVar(&f.src.WARC, "warc", "", "source: a WARC file or a glob of them")
	fs.StringVar(&f.src.Dir, "dir", "", "source: a directory of HTML, text and Markdown files")
	fs.BoolVar(&f.src.Stored, "stored", false, "source: the serving generation's stored documents")
	fs.BoolVar(&f.rollback, "rollback", false, "point the serving alias back at the previous generation instead of reindexing")
	fs.StringVar(&f.to, "to", "", "with --rollback: the generation to serve (default: the one before the serving one)")
	fs.IntVar(&f.opts.BatchSize, "batch", reindex.DefaultBatchSize, "source records per atomic commit")
	fs.IntVar(&f.opts.Workers, "workers", 0, "records converted to documents at once (default: one per core)")
	fs.Float64Var(&f.opts.MaxFailedFraction, "max-failed", reindex.DefaultMaxFailedFraction, "share of source records that may fail before the job gives up (0 to 1)")
	fs.DurationVar(&f.progressInterval, "progress-interval", 5*time.Second, "time between progress lines when stderr is not a terminal")
	fs.IntVar(&f.keep, "keep", reindex.DefaultKeep, "replaced generations to keep for rollback after the swap; -1 keeps all")
	fs.BoolVar(&stackF.embedCache, "embed-cache", false, "cache the static model's vectors too in DATA/embcache (onnx and openai always are)")
	return cmd
}

func runReindex(cmd *cobra.Command, stackF stackFlags, f reindexFlags, log *slog.Logger) error {
	opts := f.opts
	if opts.MaxFailedFraction < 0 || opts.MaxFailedFraction > 1 {
		return fmt.Errorf("--max-failed must be between 0 and 1, got %v", opts.MaxFailedFraction)
	}
	if opts.MaxFailedFraction == 0 {
		opts.MaxFailedFraction = -1 // none may fail
	}
	if err := f.src.Check(); err != nil {
		return err
	}
	stackF.rebuild = true
	ctx := cmd.Context()
	st, err := openStack(ctx, stackF, log)
	if err != nil {
		return err
	}
	defer st.Close()
	src, err := f.src.Open(ctx, st.Local, st.Local.Generation().Name)
	if err != nil {
		return err
	}
	defer src.Close()
	before := st.Local.Generation().Name
	rep := reindex.NewReporter(log, f.progressInterval)
	opts.Target, opts.Source, opts.Chunk, opts.Logger = reindex.Builds(st.Local.BeginBuild), src, st.Indexing.Chunk, log
	opts.Progress, opts.ProgressInterval = rep.Report, min(f.progressInterval, time.Second)
	if st.Indexing.Embedder != nil {
		opts.Embedder = st.Indexing.Embedder
	}
	p, err := reindex.Run(ctx, opts)
	rep.Finish()
	if err != nil {
		if p.Generation != "" {
			return fmt.Errorf("reindex into generation %s stopped after %d of %s source records: %w (run the same command again to resume; %s still serves)",
				p.Generation, p.Done, p.TotalString(), err, before)
		}
		return err
	}
	out := cmd.OutOrStdout()
	gens, _ := st.Local.Generations(ctx) // none: no comparison, the plain note
	p.WriteSummary(out, src.Describe(), before, gens)
	if f.keep >= 0 {
		removed, err := st.Local.GC(f.keep)
		if err != nil {
			return fmt.Errorf("remove old generations: %w", err)
		}
		if len(removed) > 0 {
			fmt.Fprintf(out, "removed %d older generations (--keep %d): %s\n", len(removed), f.keep, strings.Join(removed, " "))
		}
	}
	return nil
}

func runRollback(cmd *cobra.Command, stackF stackFlags, f reindexFlags, log *slog.Logger) error {
	stackF.rebuild, stackF.existing = true, true
	st, err := openStack(cmd.Context(), stackF, log)
	if err != nil {
		return err
	}
	defer st.Close()
	from := st.Local.Generation().Name
	m, err := st.Local.Rollback(f.to)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "generation %s serves now (was %s)\n", m.Name, from)
	return nil
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
			out := cmd.OutOrStdout()
			if !list {
				removed, err := st.Local.GC(keep)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "removed %d generations%s\n", len(removed), prefixed(": ", strings.Join(removed, " ")))
			}
			gens, err := st.Local.Generations(cmd.Context())
			if err != nil {
				return err
			}
			return reindex.WriteGenerations(out, gens)
		}),
	}
	stackF.register(cmd.Flags(), 0) // gc reads manifests only
	cmd.Flags().IntVar(&keep, "keep", 0, "replaced generations to keep for rollback")
	cmd.Flags().BoolVar(&list, "list", false, "only list the generations")
	return cmd
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
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
