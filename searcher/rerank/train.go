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
	// Relevant lists the query's relevant documents (judged, whether or
	// not among the candidates). CrossValidate keeps queries that share
	// one in the same fold, so that a model cannot score a held-out query
	// by recognising a document it saw as relevant for another.
	Relevant []string
}

// TrainOptions tune training. Zero values take the defaults.
type TrainOptions struct {
	// Epochs of full-batch gradient descent. Default 300.
	Epochs int
	// Rate is the learning rate. Default 0.5.
	Rate float64
	// L2 is the weight decay. Default 0.03 (chosen by 5-fold cross-validation on scifact/train).
	L2 float64
}

// DefaultTrainOptions are Train's defaults.
var DefaultTrainOptions = TrainOptions{Epochs: 300, Rate: 0.5, L2: 0.03}

// Train fits a linear ranker with the pairwise logistic loss (RankNet with
// a linear scorer): for every pair of candidates of one query where one is
// more relevant, it minimises log(1 + exp(-(s_better - s_worse))), each
// query weighted equally. Features are standardised first, so the weights
// are comparable and one learning rate fits all.
func Train(examples []Example, opts TrainOptions, trainedOn string) (*Model, error) {
	d := DefaultTrainOptions
	if opts.Epochs <= 0 {
		opts.Epochs = d.Epochs
	}
	if opts.Rate <= 0 {
		opts.Rate = d.Rate
	}
	if opts.L2 <= 0 {
		opts.L2 = d.L2
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
		if v, ok := exampleNDCG(m, ex); ok {
			sum += v
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// exampleNDCG is the nDCG@10 of the model's ranking of one example's
// candidates; ok is false when none is relevant.
func exampleNDCG(m *Model, ex Example) (v float64, ok bool) {
	order := make([]int, len(ex.Candidates))
	scores := make([]float64, len(ex.Candidates))
	for i, x := range ex.Candidates {
		order[i], scores[i] = i, m.Score(x)
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	var dcg float64
	for r, i := range order[:min(10, len(order))] {
		dcg += gain(ex.Grades[i]) * discount(r)
	}
	idcg := idealDCG(ex.Grades)
	if idcg == 0 {
		return 0, false
	}
	return dcg / idcg, true
}

// idealDCG is the DCG@10 of grades in the best order.
func idealDCG(grades []int) float64 {
	ideal := slices.Clone(grades)
	slices.SortFunc(ideal, func(a, b int) int { return b - a })
	var idcg float64
	for r, g := range ideal[:min(10, len(ideal))] {
		idcg += gain(g) * discount(r)
	}
	return idcg
}

// CVResult is what cross-validation measured, in nDCG@10 of the candidates
// of held-out queries.
type CVResult struct {
	// Model is the mean over queries of the re-ranked order.
	Model float64
	// FirstStage is the same of the first-stage order.
	FirstStage float64
	// StdErr is the standard error of the mean per-query gain.
	StdErr float64
	// Queries counts the queries with a relevant candidate.
	Queries int
}

// CrossValidate estimates how a training setting does on queries it was not
// trained on: it splits the examples into k folds (see folds), trains on
// k-1 with fit and scores the held-out fold.
func CrossValidate(examples []Example, k int, fit func([]Example) (*Model, error)) (CVResult, error) {
	var res CVResult
	var gains []float64
	base := firstStageModel()
	fold := folds(examples, k)
	for f := range k {
		var train []Example
		for i, ex := range examples {
			if fold[i] != f {
				train = append(train, ex)
			}
		}
		m, err := fit(train)
		if err != nil {
			return CVResult{}, err
		}
		for i, ex := range examples {
			if fold[i] != f {
				continue
			}
			v, ok := exampleNDCG(m, ex)
			if !ok {
				continue
			}
			b, _ := exampleNDCG(base, ex)
			res.Model += v
			res.FirstStage += b
			gains = append(gains, v-b)
		}
	}
	res.Queries = len(gains)
	if res.Queries == 0 {
		return res, nil
	}
	n := float64(res.Queries)
	res.Model /= n
	res.FirstStage /= n
	mu := mean(gains)
	var ss float64
	for _, g := range gains {
		ss += (g - mu) * (g - mu)
	}
	if res.Queries > 1 {
		res.StdErr = math.Sqrt(ss / (n - 1) / n)
	}
	return res, nil
}

// folds assigns each example to one of k folds such that examples sharing
// a relevant document share a fold: the connected groups of that relation,
// largest first, each go to the fold with the fewest examples so far.
func folds(examples []Example, k int) []int {
	parent := make([]int, len(examples))
	for i := range parent {
		parent[i] = i
	}
	root := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := make(map[string]int)
	for i, ex := range examples {
		for _, d := range ex.Relevant {
			if j, ok := owner[d]; ok {
				parent[root(i)] = root(j)
			} else {
				owner[d] = i
			}
		}
	}
	groups := make(map[int][]int)
	var roots []int
	for i := range examples {
		r := root(i)
		if groups[r] == nil {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], i)
	}
	slices.SortStableFunc(roots, func(a, b int) int { return len(groups[b]) - len(groups[a]) })
	out := make([]int, len(examples))
	size := make([]int, k)
	for _, r := range roots {
		f := slices.Index(size, slices.Min(size))
		for _, i := range groups[r] {
			out[i] = f
		}
		size[f] += len(groups[r])
	}
	return out
}

// firstStageModel scores candidates by their first-stage score alone.
func firstStageModel() *Model {
	n := len(Features)
	rank := &Model{Features: Features, Mean: make([]float64, n), Std: make([]float64, n), Weights: make([]float64, n)}
	for i := range rank.Std {
		rank.Std[i] = 1
	}
	rank.Weights[slices.Index(Features, "fused_rel")] = 1
	return rank
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(max(len(xs), 1))
}
