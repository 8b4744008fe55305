package main

import (
	"errors"
	"fmt"

	"github.com/cari-search/cari/evaluation/bench"
	"github.com/spf13/cobra"
)

func newBenchGenerateCmd() *cobra.Command {
	var from, out string
	var docs int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write a corpus of generated passages with a real corpus's term statistics",
		Long: `Generate writes --docs passages as a BEIR corpus.jsonl: titles and sentences
of words drawn with the frequencies they have in the --from corpus (a unigram
model, so word order means nothing), each passage short enough to be one
chunk. The same --from, --docs and --seed always give the same file. cari bench
uses these corpora to show how cost grows beyond the real collections.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || out == "" {
				return errors.New("--from and --out are required")
			}
			words, err := bench.Generate(from, out, docs, seed)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d passages to %s (vocabulary of %d text words from %s)\n", docs, out, words, from)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "BEIR corpus whose term statistics the passages follow (required)")
	cmd.Flags().StringVar(&out, "out", "", "corpus.jsonl to write (required)")
	cmd.Flags().IntVar(&docs, "docs", 100000, "passages to write")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed")
	return cmd
}
