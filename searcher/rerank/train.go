package rerank

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Example is one query's candidates with their relevance grades.
type Example struct {
	Candidates [][]float64
	Grades     []int
}

// TrainOptions tune training. Zero values take the defaults.
type TrainOptions struct {
	// Epochs of full-batch gradient descent. Default 300.
	Epochs int
	// Rate is the learning rate. Default 0.5.
	Rate float64
	// L2 is the weight decay. Default 0.1 (chosen by 5-fold cross-validation on scifact/train).
	L2 float64
}

// Train fits a linear ranker with the pairwise logistic loss (RankNet with
// a linear scorer): for every pair of candidates of one query where one is
// more relevant, it minimises log(1 + exp(-(s_better - s_worse))), each
// query weighted equally. Features are standardised first, so the weights
// are comparable and one learning rate fits all.
func Train(examples []Example, opts TrainOptions, trainedOn string) (*Model, error) {
	if opts.Epochs <= 0 {
		opts.Epochs = 300
	}
	if opts.Rate <= 0 {
		opts.Rate = 0.5
	}
	if opts.L2 <= 0 {
		opts.L2 = 0.1
	}
	n := len(Features)
	m := &Model{Features: Features, Mean: make([]float64, n), Std: make([]float64, n), Weights: make([]float64, n), TrainedOn: trainedOn}
	standardize(m, examples)

	type pair struct {
		diff   []float64
		weight float64
	}
	var pairs []pair
	for _, ex := range examples {
		var qp []pair
		for i, gi := range ex.Grades {
			for j, gj := range ex.Grades {
				if gi <= gj {
					continue
				}
				d := make([]float64, n)
				for k := range d {
					d[k] = (ex.Candidates[i][k] - ex.Candidates[j][k]) / m.Std[k]
				}
				qp = append(qp, pair{diff: d})
			}
		}
		for i := range qp {
			qp[i].weight = 1 / float64(len(qp))
		}
		pairs = append(pairs, qp...)
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("no training pairs: no query has both a relevant and a non-relevant candidate")
	}
	var totalWeight float64
	for _, p := range pairs {
		totalWeight += p.weight
	}
	grad := make([]float64, n)
	for range opts.Epochs {
		clear(grad)
		for _, p := range pairs {
			var s float64
			for k, v := range p.diff {
				s += m.Weights[k] * v
			}
			// d/dw log(1+exp(-s)) = -sigmoid(-s) * diff
			g := -p.weight / (1 + math.Exp(s))
			for k, v := range p.diff {
				grad[k] += g * v
			}
		}
		for k := range m.Weights {
			m.Weights[k] -= opts.Rate * (grad[k]/totalWeight + opts.L2*m.Weights[k])
		}
	}
	return m, nil
}

// standardize sets the model's mean and standard deviation of each feature
// over all training candidates; a constant feature gets std 1.
func standardize(m *Model, examples []Example) {
	var count float64
	for _, ex := range examples {
		for _, x := range ex.Candidates {
			for k, v := range x {
				m.Mean[k] += v
			}
			count++
		}
	}
	for k := range m.Mean {
		m.Mean[k] /= max(count, 1)
	}
	for _, ex := range examples {
		for _, x := range ex.Candidates {
			for k, v := range x {
				d := v - m.Mean[k]
				m.Std[k] += d * d
			}
		}
	}
	for k := range m.Std {
		m.Std[k] = math.Sqrt(m.Std[k] / max(count, 1))
		if m.Std[k] < 1e-9 {
			m.Std[k] = 1
		}
	}
}

// Refine improves m's weights by coordinate ascent on the mean nDCG@10 of
// the examples (Metzler and Croft's method for linear feature models, as in
// RankLib): each round tries, for every feature, a grid of steps on its
// weight and keeps the best, until a round gains nothing. The pairwise
// model is a good start; this then optimises the measure itself.
func Refine(m *Model, examples []Example, rounds int) {
	best := meanNDCG(m, examples)
	steps := []float64{-1, -0.5, -0.25, -0.1, -0.05, 0.05, 0.1, 0.25, 0.5, 1}
	for range rounds {
		improved := false
		for k := range m.Weights {
			orig := m.Weights[k]
			bestW := orig
			for _, st := range steps {
				m.Weights[k] = orig + st
				if v := meanNDCG(m, examples); v > best+1e-9 {
					best, bestW, improved = v, m.Weights[k], true
				}
			}
			m.Weights[k] = bestW
		}
		if !improved {
			return
		}
	}
}

// meanNDCG is the mean nDCG@10 of the model's ranking of each example's
// candidates (ideal from the candidates' own grades; queries with no
// relevant candidate are skipped).
func meanNDCG(m *Model, examples []Example) float64 {
	var sum float64
	var n int
	for _, ex := range examples {
		order := make([]int, len(ex.Candidates))
		scores := make([]float64, len(ex.Candidates))
		for i, x := range ex.Candidates {
			order[i], scores[i] = i, m.Score(x)
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
		var dcg float64
		for r, i := range order[:min(10, len(order))] {
			if g := ex.Grades[i]; g > 0 {
				dcg += float64(g) / math.Log2(float64(r+2))
			}
		}
		ideal := slices.Clone(ex.Grades)
		slices.SortFunc(ideal, func(a, b int) int { return b - a })
		var idcg float64
		for r, g := range ideal[:min(10, len(ideal))] {
			if g > 0 {
				idcg += float64(g) / math.Log2(float64(r+2))
			}
		}
		if idcg > 0 {
			sum += dcg / idcg
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// CrossValidate estimates how a training setting does on queries it was not
// trained on: it splits the examples into k folds, trains on k-1 with fit
// and scores the held-out fold, and returns the mean held-out nDCG@10 and,
// for comparison, the mean nDCG@10 of the first-stage order.
func CrossValidate(examples []Example, k int, fit func([]Example) (*Model, error)) (model, firstStage float64, err error) {
	var heldOut []float64
	var base []float64
	for f := range k {
		var train, test []Example
		for i, ex := range examples {
			if i%k == f {
				test = append(test, ex)
			} else {
				train = append(train, ex)
			}
		}
		m, err := fit(train)
		if err != nil {
			return 0, 0, err
		}
		heldOut = append(heldOut, meanNDCG(m, test))
		base = append(base, firstStageNDCG(test))
	}
	return mean(heldOut), mean(base), nil
}

// firstStageNDCG scores the examples in their given (first-stage) order.
func firstStageNDCG(examples []Example) float64 {
	n := len(Features)
	rank := &Model{Features: Features, Mean: make([]float64, n), Std: make([]float64, n), Weights: make([]float64, n)}
	for i := range rank.Std {
		rank.Std[i] = 1
	}
	rank.Weights[slices.Index(Features, "fused_rel")] = 1
	return meanNDCG(rank, examples)
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(max(len(xs), 1))
}
