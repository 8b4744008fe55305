package main

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/evaluation/modes"
	"github.com/cari-search/cari/searcher"
)

// calibrationDepth is how many results of each query --calibrate fits on:
// the ten an Exa client gets by default, where the map must be right.
const calibrationDepth = 10

func newEvalCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	var queriesPath, qrelsPath, mode, runPath string
	var asJSON, binary, calibrate bool
	var workers int
	var fusionMethod string
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
			if _, _, err := modes.Parse(mode); err != nil {
				return fmt.Errorf("--mode must be keyword, vector, hybrid, rerank or served, got %q", mode)
			}
			queries, err := evaluation.LoadQueries(queriesPath)
			if err != nil {
				return err
			}
			qrels, err := evaluation.LoadQrels(qrelsPath, binary)
			if err != nil {
				return err
			}
			stackF.existing = true
			st, err := openStack(cmd.Context(), stackF, log)
			if err != nil {
				return err
			}
			defer st.Close()
			start := time.Now()
			proto, _ := modes.Query(mode, st.Embedder != nil) // the mode was checked above
			if proto.Fusion.Method, err = searcher.ParseFusionMethod(fusionMethod); err != nil {
				return fmt.Errorf("--fusion: %w", err)
			}
			if cmd.Flags().Changed("alpha") {
				proto.Fusion.Alpha = &alpha
			}
			if cmd.Flags().Changed("rrf-k") {
				proto.Fusion.RRFK = &rrfK
			}
			run, refused, err := evaluation.RunQueries(cmd.Context(), queries, workers, modes.Search(st.Searcher, proto))
			if err != nil {
				return err
			}
			elapsed := time.Since(start)
			if runPath != "" {
				if err := evaluation.WriteRunFile(runPath, run, "cari-"+mode); err != nil {
					return err
				}
			}
			if calibrate {
				c, err := evaluation.FitCalibration(run, qrels, calibrationDepth)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "calibration of %s scores (top %d): %v ece=%.4f\n", mode, calibrationDepth, c, evaluation.CalibrationError(c, run, qrels, calibrationDepth))
			}
			res := evaluation.Outcome{Mode: mode, Summary: evaluation.Evaluate(run, qrels), Refused: refused, QueriesPerSecond: float64(len(queries)) / elapsed.Seconds()}
			for _, r := range refused {
				log.Warn("query refused; it scores 0", "query", r.ID, "error", r.Err)
			}
			if asJSON {
				return res.WriteJSON(cmd.OutOrStdout())
			}
			if err := res.WriteText(cmd.OutOrStdout()); err != nil {
				return err
			}
			log.Info("eval finished", "mode", mode, "queries_run", len(queries), "seconds", elapsed.Seconds(), "queries_per_second", res.QueriesPerSecond)
			return nil
		}),
	}
	stackF.register(cmd.Flags(), embeds|searches|reranks|onQdrant)
	cmd.Flags().StringVar(&queriesPath, "queries", "", "queries.jsonl (required)")
	cmd.Flags().StringVar(&qrelsPath, "qrels", "", "qrels.tsv (required)")
	cmd.Flags().StringVar(&mode, "mode", "keyword", "retrieval: keyword, vector, hybrid, rerank (hybrid, or keyword without an embedder, then the re-ranker), or served (auto then the re-ranker: a search's defaults)")
	cmd.Flags().StringVar(&runPath, "run", "", "also write the ranking as a TREC run file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as JSON")
	cmd.Flags().BoolVar(&calibrate, "calibrate", false, "also fit the map from this mode's scores to the probability of relevance (Exa's score, docs/EXA.md)")
	cmd.Flags().BoolVar(&binary, "binary", false, "treat every relevance grade >= 1 as 1")
	cmd.Flags().IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "queries run in parallel")
	cmd.Flags().StringVar(&fusionMethod, "fusion", "", "hybrid fusion: rrf or score (default: the embedder's)")
	cmd.Flags().Float64Var(&alpha, "alpha", 0, "hybrid: weight of the vector side, 0 to 1 (default: the embedder's)")
	cmd.Flags().Float64Var(&rrfK, "rrf-k", 0, "hybrid: k of reciprocal rank fusion (default: the embedder's)")
	return cmd
}
