package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/searcher/rerank"
)

func newTrainRerankerCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	var queriesPath, qrelsPath, out, mode string
	var candidates, refine, folds int
	var opts rerank.TrainOptions
	var boost rerank.BoostOptions
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			if queriesPath == "" || qrelsPath == "" || out == "" {
				return errors.New("--queries, --qrels and --out are required")
			}
			typ, err := searcher.ParseType(mode)
			if err != nil || (typ != searcher.TypeKeyword && typ != searcher.TypeHybrid) {
				return fmt.Errorf("--mode must be keyword or hybrid, got %q", mode)
			}
			queries, err := evaluation.LoadQueries(queriesPath)
			if err != nil {
				return err
			}
			qrels, err := evaluation.LoadQrels(qrelsPath, false)
			if err != nil {
				return err
			}
			stackF.rerank.Kind = rerank.KindNone
			st, err := openStack(cmd.Context(), stackF, log)
			if err != nil {
				return err
			}
			defer st.Close()
			var examples []rerank.Example
			for _, q := range queries {
				cands, err := st.searcher.Candidates(cmd.Context(), searcher.Query{Text: q.Text, Type: typ}, candidates)
				if err != nil {
					return fmt.Errorf("query %s: %w", q.ID, err)
				}
				gains := qrels.Gains(q.ID)
				ex := rerank.Example{Candidates: rerank.FeatureVectors(cands)}
				for _, c := range cands {
					ex.Grades = append(ex.Grades, gains[c.Document.ID])
				}
				for id, g := range gains {
					if g > 0 {
						ex.Relevant = append(ex.Relevant, id)
					}
				}
				examples = append(examples, ex)
			}
			// fit is the training, for each fold and for the final model.
			fit := func(exs []rerank.Example) (*rerank.Model, error) {
				m, err := rerank.Train(exs, opts, "")
				if err != nil {
					return nil, err
				}
				if refine > 0 {
					rerank.Refine(m, exs, refine)
				}
				if boost.Trees > 0 {
					rerank.Boost(m, exs, boost)
				}
				return m, nil
			}
			if folds > 1 {
				cv, err := rerank.CrossValidate(examples, folds, fit)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d-fold cross-validation on the training queries (queries sharing a relevant document kept in one fold): nDCG@10 of the top %d re-ranked %.4f, first-stage order %.4f (%+.4f, standard error %.4f, %d queries)\n",
					folds, candidates, cv.Model, cv.FirstStage, cv.Model-cv.FirstStage, cv.StdErr, cv.Queries)
			}
			trainedOn := fmt.Sprintf("%s %s top-%d, pairwise logistic l2 %g", queriesPath, mode, candidates, opts.L2)
			if boost.Trees > 0 {
				trainedOn += fmt.Sprintf(", %d lambdamart trees of %d leaves", boost.Trees, boost.Leaves)
			}
			m, err := fit(examples)
			if err != nil {
				return err
			}
			m.TrainedOn = trainedOn
			b, err := json.MarshalIndent(m, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "trained on %d queries (%s); weights:\n", len(examples), trainedOn)
			for j, f := range m.Features {
				fmt.Fprintf(cmd.OutOrStdout(), "  %-15s %+.4f\n", f, m.Weights[j])
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return nil
		},
	}
	stackF.register(cmd.Flags())
	cmd.Flags().StringVar(&queriesPath, "queries", "", "training queries.jsonl (required)")
	cmd.Flags().StringVar(&qrelsPath, "qrels", "", "training qrels.tsv (required)")
	cmd.Flags().StringVar(&out, "out", "", "model file to write (required)")
	cmd.Flags().StringVar(&mode, "mode", "hybrid", "first stage: hybrid or keyword")
	cmd.Flags().IntVar(&candidates, "candidates", 50, "candidates per query (the re-ranking depth)")
	cmd.Flags().IntVar(&opts.Epochs, "epochs", 300, "gradient descent epochs")
	cmd.Flags().IntVar(&folds, "cv", 5, "folds of cross-validation to report before the final fit (0 or 1: none)")
	cmd.Flags().IntVar(&refine, "refine", 0, "rounds of coordinate ascent on nDCG@10 after the pairwise fit (0: none)")
	cmd.Flags().Float64Var(&opts.Rate, "rate", 0.5, "learning rate")
	cmd.Flags().Float64Var(&opts.L2, "l2", 0.03, "L2 weight decay")
	cmd.Flags().IntVar(&boost.Trees, "trees", 0, "LambdaMART trees added after the linear fit (0: linear only)")
	cmd.Flags().IntVar(&boost.Leaves, "leaves", 8, "leaves per tree")
	cmd.Flags().Float64Var(&boost.Rate, "shrinkage", 0.1, "shrinkage of each tree")
	cmd.Flags().IntVar(&boost.MinLeaf, "min-leaf", 50, "least candidates in a leaf")
	return cmd
}
