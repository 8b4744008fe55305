package rerank

import (
	"context"
	"fmt"
	"io"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/searcher"
)

// Training is one run of cari train-reranker: the first stage run for every
// labelled query, its best Candidates documents fitted with Fit, after
// Folds-fold cross-validation when Folds > 1.
type Training struct {
	// Mode is the first stage: "keyword" or "hybrid".
	Mode       string
	Candidates int
	Folds      int
	Fit        FitOptions
	Queries    []evaluation.Query
	Qrels      evaluation.Qrels
	// Source names the training queries in the model's TrainedOn.
	Source string
}

// Validate checks the first stage before anything is opened, as a
// *cari.FieldError naming it.
func (tr Training) Validate() error {
	_, err := tr.firstStage()
	return err
}

func (tr Training) firstStage() (searcher.Type, error) {
	typ, err := searcher.ParseType(tr.Mode)
	if err != nil || (typ != searcher.TypeKeyword && typ != searcher.TypeHybrid) {
		return 0, &cari.FieldError{Field: "mode", Reason: fmt.Sprintf("must be keyword or hybrid, got %q", tr.Mode)}
	}
	return typ, nil
}

// Train fits a model on what s retrieves, writing the cross-validation's
// figures and the fitted weights to w as it goes.
func (tr Training) Train(ctx context.Context, s *searcher.Searcher, w io.Writer) (*Model, error) {
	typ, err := tr.firstStage()
	if err != nil {
		return nil, err
	}
	examples, err := Examples(ctx, s, typ, tr.Candidates, tr.Queries, tr.Qrels)
	if err != nil {
		return nil, err
	}
	fit := func(exs []Example) (*Model, error) { return Fit(exs, tr.Fit) }
	if tr.Folds > 1 {
		cv, err := CrossValidate(examples, tr.Folds, fit)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "%d-fold cross-validation on the training queries (queries sharing a relevant document kept in one fold): nDCG@10 of the top %d re-ranked %.4f, first-stage order %.4f (%+.4f, standard error %.4f, %d queries)\n",
			tr.Folds, tr.Candidates, cv.Model, cv.FirstStage, cv.Model-cv.FirstStage, cv.StdErr, cv.Queries)
	}
	m, err := fit(examples)
	if err != nil {
		return nil, err
	}
	m.TrainedOn = fmt.Sprintf("%s %s top-%d, %s", tr.Source, tr.Mode, tr.Candidates, tr.Fit)
	fmt.Fprintf(w, "trained on %d queries (%s); weights:\n", len(examples), m.TrainedOn)
	for j, f := range m.Features {
		fmt.Fprintf(w, "  %-15s %+.4f\n", f, m.Weights[j])
	}
	return m, nil
}
