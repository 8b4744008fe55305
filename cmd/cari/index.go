package main

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/collections"
	"github.com/cari-search/cari/indexer"
)

func newIndexCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	var l collections.Load
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
			if err := l.Validate(); err != nil {
				return err
			}
			st, err := openStack(cmd.Context(), stackF, log)
			if err != nil {
				return err
			}
			sum, err := st.LoadCorpus(cmd.Context(), l)
			if cerr := st.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			return l.Report(sum, cmd.OutOrStdout())
		}),
	}
	stackF.register(cmd.Flags(), embeds|onQdrant)
	cmd.Flags().StringVar(&l.Corpus, "corpus", "", "corpus file: corpus.jsonl or corpus.jsonl.gz (required)")
	cmd.Flags().IntVar(&l.Batch, "batch", indexer.DefaultBatchSize, "documents per atomic write")
	cmd.Flags().Float64Var(&l.MaxMalformed, "max-malformed", indexer.DefaultMaxMalformed, "share of the corpus's lines (0 to 1) that may be malformed or invalid before index exits 1")
	cmd.Flags().StringVar(&l.Language, "language", "", `language (BCP 47 tag, such as "en") of the documents whose corpus line names none; they skip language detection`)
	return cmd
}
