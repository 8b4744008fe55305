package rerank

import (
	"context"
	"fmt"

	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/searcher"
)

// Examples runs the first stage (typ: keyword or hybrid) for every query
// and returns its best candidates documents with their features and
// grades, the training data of Train, Boost and CrossValidate.
func Examples(ctx context.Context, s *searcher.Searcher, typ searcher.Type, candidates int, queries []evaluation.Query, qrels evaluation.Qrels) ([]Example, error) {
	examples := make([]Example, 0, len(queries))
	for _, q := range queries {
		cands, err := s.Candidates(ctx, searcher.Query{Text: q.Text, Type: typ}, candidates)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", q.ID, err)
		}
		gains := qrels.Gains(q.ID)
		ex := Example{Candidates: FeatureVectors(cands)}
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
	return examples, nil
}

// FitOptions are the whole training recipe: the pairwise fit, then
// coordinate ascent, then LambdaMART trees.
type FitOptions struct {
	Train TrainOptions
	// Refine is the rounds of coordinate ascent on nDCG@10 (0: none).
	Refine int
	// Boost adds Boost.Trees trees after the linear fit (0: linear only).
	Boost BoostOptions
}

// DefaultFitOptions is a linear model with Train's defaults; the tree
// settings are Boost's, for when trees are asked for.
func DefaultFitOptions() FitOptions {
	b := DefaultBoostOptions
	b.Trees = 0
	return FitOptions{Train: DefaultTrainOptions, Boost: b}
}

// String describes the recipe, for Model.TrainedOn.
func (o FitOptions) String() string {
	s := fmt.Sprintf("pairwise logistic l2 %g", o.Train.L2)
	if o.Boost.Trees > 0 {
		s += fmt.Sprintf(", %d lambdamart trees of %d leaves", o.Boost.Trees, o.Boost.Leaves)
	}
	return s
}

// Fit trains a model on examples with the recipe o; it is the fit
// CrossValidate takes, for each fold and for the final model.
func Fit(examples []Example, o FitOptions) (*Model, error) {
	m, err := Train(examples, o.Train, "")
	if err != nil {
		return nil, err
	}
	if o.Refine > 0 {
		Refine(m, examples, o.Refine)
	}
	if o.Boost.Trees > 0 {
		Boost(m, examples, o.Boost)
	}
	return m, nil
}
