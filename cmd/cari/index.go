package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/internal/progress"
	"github.com/cari-search/cari/searcher/rerank"
)

func newIndexCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	var corpusPath, language string
	var batch int
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Index a BEIR-layout corpus.jsonl or corpus.jsonl.gz into a data directory",
		Long: `Index reads a corpus in the BEIR layout, one JSON object per line:
  {"_id": "...", "title": "...", "text": "...", "language": "en"}
gzip-compressed or not; "language" (a BCP 47 tag) is optional. Documents with
an _id already in the index replace it. Malformed lines are reported with their
line number and skipped.

A document that names no language has it detected from its opening; with
--language, every such document is taken to be in that language instead,
which for a corpus in one language skips detection, most of the indexing CPU.`,
		Args: cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
			if corpusPath == "" {
				return errors.New("--corpus is required")
			}
			if err := checkLanguageTag(language); err != nil {
				return fmt.Errorf("--language: %w", err)
			}
			stackF.rerank.Kind = rerank.KindNone // indexing never searches
			st, err := openStack(cmd.Context(), stackF, log)
			if err != nil {
				return err
			}
			opts := st.indexing
			opts.BatchSize = batch
			sum, err := indexCorpus(cmd, st.index, opts, corpusPath, language, log)
			if cerr := st.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "indexed %d documents from %s in %.1fs (%.0f docs/s); skipped %d malformed lines\n",
				sum.Indexed, corpusPath, sum.Elapsed.Seconds(), float64(sum.Indexed)/sum.Elapsed.Seconds(), sum.Skipped)
			return nil
		}),
	}
	stackF.register(cmd.Flags())
	stackF.storage.register(cmd.Flags())
	cmd.Flags().StringVar(&corpusPath, "corpus", "", "corpus file: corpus.jsonl or corpus.jsonl.gz (required)")
	cmd.Flags().IntVar(&batch, "batch", indexer.DefaultBatchSize, "documents per atomic write")
	cmd.Flags().StringVar(&language, "language", "", `language (BCP 47 tag, such as "en") of the documents whose corpus line names none; they skip language detection`)
	return cmd
}

// checkLanguageTag checks a language tag given with --language.
func checkLanguageTag(tag string) error {
	_, err := cari.LanguageTag(tag)
	return err
}

// indexCorpus indexes the corpus at path into w with a progress bar;
// language, when not empty, is the language of the documents that name
// none.
func indexCorpus(cmd *cobra.Command, w indexer.Writer, opts indexer.Options, path, language string, log *slog.Logger) (indexer.LoadSummary, error) {
	if err := checkLanguageTag(language); err != nil {
		return indexer.LoadSummary{}, fmt.Errorf("--language: %w", err)
	}
	bar := progress.NewCounter("indexing", -1, log)
	sum, err := indexer.LoadCorpus(cmd.Context(), w, opts, path, indexer.LoadOptions{Language: language, Logger: log, Added: func() { bar.Add(1) }})
	if err == nil {
		bar.Finish()
	}
	return sum, err
}
