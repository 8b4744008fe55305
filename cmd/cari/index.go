package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/internal/progress"
)

func newIndexCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	var corpusPath, language string
	var batch int
	var maxMalformed float64
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Index a BEIR-layout corpus.jsonl or corpus.jsonl.gz into a data directory",
		Long: `Index reads a corpus in the BEIR layout, one JSON object per line:
  {"_id": "...", "title": "...", "text": "...", "language": "en"}
gzip-compressed or not; "language" (a BCP 47 tag) is optional. Documents with
an _id already in the index replace it; one whose content is unchanged is
skipped. Malformed lines are reported with their line number and skipped.
Index exits 1 when it indexed nothing, or when it refused more than
--max-malformed of the lines (what it indexed stays indexed).

A document that names no language has it detected from its opening; with
--language, every such document is taken to be in that language instead,
which for a corpus in one language skips detection, most of the indexing CPU.`,
		Args: cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
			if corpusPath == "" {
				return errors.New("--corpus is required")
			}
			if _, err := cari.LanguageTag(language); err != nil {
				return fmt.Errorf("--language: %w", err)
			}
			if maxMalformed < 0 || maxMalformed > 1 {
				return fmt.Errorf("--max-malformed must be between 0 and 1, got %v", maxMalformed)
			}
			st, err := openStack(cmd.Context(), stackF, log)
			if err != nil {
				return err
			}
			opts := st.Indexing
			opts.BatchSize = batch
			if language == "" {
				language = st.Record.Settings.Language
			}
			load, bar := loadOptions(language, log)
			sum, err := indexer.LoadCorpus(cmd.Context(), st.Index, opts, corpusPath, load)
			bar.Finish()
			if cerr := st.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			sum.WriteSummary(cmd.OutOrStdout(), corpusPath)
			if err := sum.Check(maxMalformed); err != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "failed: %v (--max-malformed %g)\n", err, maxMalformed)
				return fmt.Errorf("index %s: %w", corpusPath, err)
			}
			return nil
		}),
	}
	stackF.register(cmd.Flags(), embeds|onQdrant)
	cmd.Flags().StringVar(&corpusPath, "corpus", "", "corpus file: corpus.jsonl or corpus.jsonl.gz (required)")
	cmd.Flags().IntVar(&batch, "batch", indexer.DefaultBatchSize, "documents per atomic write")
	cmd.Flags().Float64Var(&maxMalformed, "max-malformed", indexer.DefaultMaxMalformed, "share of the corpus's lines (0 to 1) that may be malformed or invalid before index exits 1")
	cmd.Flags().StringVar(&language, "language", "", `language (BCP 47 tag, such as "en") of the documents whose corpus line names none; they skip language detection`)
	return cmd
}

// loadOptions are the corpus load options of cari index and bench: a
// counter of the documents added, for the caller to finish.
func loadOptions(language string, log *slog.Logger) (indexer.LoadOptions, *progress.Counter) {
	bar := progress.NewCounter("indexing", -1, log)
	return indexer.LoadOptions{Language: language, Logger: log, Added: func() { bar.Add(1) }}, bar
}
