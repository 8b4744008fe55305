package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/internal/flagconfig"
	"github.com/cari-search/cari/searcher/rerank"
)

func newTrainRerankerCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	var queriesPath, qrelsPath, out string
	tr := rerank.Training{Fit: rerank.DefaultFitOptions()}
	opts := &tr.Fit
	cmd := &cobra.Command{
		Use:   "train-reranker",
		Short: "Train the learned re-ranker on a labelled collection",
		Long: `Train-reranker runs the first stage (hybrid, or keyword) for every query of a
labelled collection, takes the best --candidates documents with the features
the re-ranker uses, and fits a linear ranker with the pairwise logistic loss;
--trees adds LambdaMART trees on top. Cross-validation keeps queries that
share a relevant document in one fold. Train only on a training split
(scifact/train); report on the test sets.`,
		Args: cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
			if queriesPath == "" || qrelsPath == "" || out == "" {
				return errors.New("--queries, --qrels and --out are required")
			}
			if err := flagconfig.FieldError(tr.Validate(), nil); err != nil {
				return err
			}
			var err error
			if tr.Queries, tr.Qrels, err = evaluation.LoadLabelled(queriesPath, qrelsPath, false); err != nil {
				return err
			}
			stackF.existing = true
			st, err := openStack(cmd.Context(), stackF, log)
			if err != nil {
				return err
			}
			defer st.Close()
			tr.Source = queriesPath
			m, err := tr.Train(cmd.Context(), st.Searcher, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if err := m.WriteFile(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return nil
		}),
	}
	stackF.register(cmd.Flags(), embeds|searches)
	cmd.Flags().StringVar(&queriesPath, "queries", "", "training queries.jsonl (required)")
	cmd.Flags().StringVar(&qrelsPath, "qrels", "", "training qrels.tsv (required)")
	cmd.Flags().StringVar(&out, "out", "", "model file to write (required)")
	cmd.Flags().StringVar(&tr.Mode, "mode", "hybrid", "first stage: hybrid or keyword")
	cmd.Flags().IntVar(&tr.Candidates, "candidates", 50, "candidates per query (the re-ranking depth)")
	d, f := rerank.DefaultFitOptions(), cmd.Flags()
	f.IntVar(&opts.Train.Epochs, "epochs", d.Train.Epochs, "gradient descent epochs")
	f.IntVar(&tr.Folds, "cv", 5, "folds of cross-validation to report before the final fit (0 or 1: none)")
	f.IntVar(&opts.Refine, "refine", d.Refine, "rounds of coordinate ascent on nDCG@10 after the pairwise fit (0: none)")
	f.Float64Var(&opts.Train.Rate, "rate", d.Train.Rate, "learning rate")
	f.Float64Var(&opts.Train.L2, "l2", d.Train.L2, "L2 weight decay")
	f.IntVar(&opts.Boost.Trees, "trees", d.Boost.Trees, "LambdaMART trees added after the linear fit (0: linear only)")
	f.IntVar(&opts.Boost.Leaves, "leaves", d.Boost.Leaves, "leaves per tree")
	f.Float64Var(&opts.Boost.Rate, "shrinkage", d.Boost.Rate, "shrinkage of each tree")
	f.IntVar(&opts.Boost.MinLeaf, "min-leaf", d.Boost.MinLeaf, "least candidates in a leaf")
	return cmd
}
