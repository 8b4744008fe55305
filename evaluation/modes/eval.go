package modes

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/searcher"
)

// CalibrationDepth is how many results of each query Eval's calibration
// fits on: the ten an Exa client gets by default, where the map must be
// right.
const CalibrationDepth = 10

// Eval is one run of cari eval: every query searched in Mode, the ranking
// scored against Qrels.
type Eval struct {
	Mode    string
	Queries []evaluation.Query
	Qrels   evaluation.Qrels
	// Workers is how many queries run at once.
	Workers int
	// Fusion overrides the hybrid fusion of the searcher's model: a method
	// ("" keeps the model's), and Alpha and RRFK where set.
	Fusion      string
	Alpha, RRFK *float64
	// RunFile, when set, also receives the ranking as a TREC run file.
	RunFile string
	// Calibrate also fits the map from the mode's scores to the
	// probability of relevance (Exa's score, docs/EXA.md).
	Calibrate bool
	// Log receives a warning per refused query and the run's figures; nil
	// discards them.
	Log *slog.Logger
}

// EvalResult is what an Eval measured.
type EvalResult struct {
	evaluation.Outcome
	// Calibration is the fitted map when Eval.Calibrate was set, and
	// CalibrationError its expected calibration error on the same run.
	Calibration      *evaluation.Calibration
	CalibrationError float64
	// Elapsed is the time the queries took.
	Elapsed time.Duration
}

// Validate checks the mode and the fusion method before anything is
// opened, as *cari.FieldErrors naming them.
func (e Eval) Validate() error {
	if _, _, err := Parse(e.Mode); err != nil {
		return &cari.FieldError{Field: "mode", Reason: fmt.Sprintf("must be keyword, vector, hybrid, rerank or served, got %q", e.Mode)}
	}
	if _, err := searcher.ParseFusionMethod(e.Fusion); err != nil {
		return &cari.FieldError{Field: "fusion", Reason: err.Error()}
	}
	return nil
}

// Run searches every query with s (vectors: whether s has an embedding
// model) and scores the run. A query the searcher refuses scores 0 and is
// listed in the outcome.
func (e Eval) Run(ctx context.Context, s *searcher.Searcher, vectors bool) (EvalResult, error) {
	start := time.Now()
	q, err := Query(e.Mode, vectors)
	if err != nil {
		return EvalResult{}, err
	}
	if q.Fusion.Method, err = searcher.ParseFusionMethod(e.Fusion); err != nil {
		return EvalResult{}, fmt.Errorf("fusion: %w", err)
	}
	q.Fusion.Alpha, q.Fusion.RRFK = e.Alpha, e.RRFK
	run, refused, err := evaluation.RunQueries(ctx, e.Queries, e.Workers, Search(s, q))
	if err != nil {
		return EvalResult{}, err
	}
	res := EvalResult{Elapsed: time.Since(start)}
	if e.RunFile != "" {
		if err := evaluation.WriteRunFile(e.RunFile, run, "cari-"+e.Mode); err != nil {
			return EvalResult{}, err
		}
	}
	if e.Calibrate {
		c, err := evaluation.FitCalibration(run, e.Qrels, CalibrationDepth)
		if err != nil {
			return EvalResult{}, err
		}
		res.Calibration, res.CalibrationError = &c, evaluation.CalibrationError(c, run, e.Qrels, CalibrationDepth)
	}
	res.Outcome = evaluation.Outcome{Mode: e.Mode, Summary: evaluation.Evaluate(run, e.Qrels), Refused: refused, QueriesPerSecond: float64(len(e.Queries)) / res.Elapsed.Seconds()}
	log := cmp.Or(e.Log, slog.New(slog.DiscardHandler))
	for _, r := range refused {
		log.Warn("query refused; it scores 0", "query", r.ID, "error", r.Err)
	}
	log.Info("eval finished", "mode", e.Mode, "queries_run", len(e.Queries), "seconds", res.Elapsed.Seconds(), "queries_per_second", res.QueriesPerSecond)
	return res, nil
}

// WriteCalibration writes the fitted calibration as one line, or nothing
// when the run fitted none.
func (r EvalResult) WriteCalibration(w io.Writer) error {
	if r.Calibration == nil {
		return nil
	}
	_, err := fmt.Fprintf(w, "calibration of %s scores (top %d): %v ece=%.4f\n", r.Mode, CalibrationDepth, *r.Calibration, r.CalibrationError)
	return err
}
