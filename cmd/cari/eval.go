package main

import (
	"errors"
	"log/slog"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/evaluation/modes"
	"github.com/cari-search/cari/internal/flagconfig"
)

func newEvalCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	var e modes.Eval
	var queriesPath, qrelsPath string
	var asJSON, binary bool
	var alpha, rrfK float64
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Measure ranking quality on a labelled collection (nDCG@10, Recall@100, MRR@10)",
		Long: `Eval runs every query of a BEIR-layout collection against the index in --data
and scores the ranking against the relevance judgments, with the same
definitions as trec_eval (and ../shared/datasets/eval/score_run.py).`,
		Args: cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
			if queriesPath == "" || qrelsPath == "" {
				return errors.New("--queries and --qrels are required")
			}
			if err := flagconfig.FieldError(e.Validate(), nil); err != nil {
				return err
			}
			var err error
			if e.Queries, e.Qrels, err = evaluation.LoadLabelled(queriesPath, qrelsPath, binary); err != nil {
				return err
			}
			if cmd.Flags().Changed("alpha") {
				e.Alpha = &alpha
			}
			if cmd.Flags().Changed("rrf-k") {
				e.RRFK = &rrfK
			}
			e.Log, stackF.existing = log, true
			st, err := openStack(cmd.Context(), stackF, log)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := e.Run(cmd.Context(), st.Searcher, st.Embedder != nil)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if err := res.WriteCalibration(out); err != nil {
				return err
			}
			if asJSON {
				return res.WriteJSON(out)
			}
			return res.WriteText(out)
		}),
	}
	stackF.register(cmd.Flags(), embeds|searches|reranks|onQdrant)
	cmd.Flags().StringVar(&queriesPath, "queries", "", "queries.jsonl (required)")
	cmd.Flags().StringVar(&qrelsPath, "qrels", "", "qrels.tsv (required)")
	cmd.Flags().StringVar(&e.Mode, "mode", "keyword", "retrieval: keyword, vector, hybrid, rerank (hybrid, or keyword without an embedder, then the re-ranker), or served (auto then the re-ranker: a search's defaults)")
	cmd.Flags().StringVar(&e.RunFile, "run", "", "also write the ranking as a TREC run file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as JSON")
	cmd.Flags().BoolVar(&e.Calibrate, "calibrate", false, "also fit the map from this mode's scores to the probability of relevance (Exa's score, docs/EXA.md)")
	cmd.Flags().BoolVar(&binary, "binary", false, "treat every relevance grade >= 1 as 1")
	cmd.Flags().IntVar(&e.Workers, "workers", runtime.GOMAXPROCS(0), "queries run in parallel")
	cmd.Flags().StringVar(&e.Fusion, "fusion", "", "hybrid fusion: rrf or score (default: the embedder's)")
	cmd.Flags().Float64Var(&alpha, "alpha", 0, "hybrid: weight of the vector side, 0 to 1 (default: the embedder's)")
	cmd.Flags().Float64Var(&rrfK, "rrf-k", 0, "hybrid: k of reciprocal rank fusion (default: the embedder's)")
	return cmd
}
