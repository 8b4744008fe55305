package rerank

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Tree is a regression tree over raw (not standardised) feature values,
// stored as a flat list of nodes; node 0 is the root.
type Tree []Node

// Node is one node of a Tree. A leaf has Feature -1 and a Value; an inner
// node sends x to Left when x[Feature] <= Threshold, else to Right.
type Node struct {
	Feature   int     `json:"f"`
	Threshold float64 `json:"t,omitempty"`
	Left      int     `json:"l,omitempty"`
	Right     int     `json:"r,omitempty"`
	Value     float64 `json:"v,omitempty"`
}

// Eval returns the value of the leaf x falls into.
func (t Tree) Eval(x []float64) float64 {
	i := 0
	for t[i].Feature >= 0 {
		if x[t[i].Feature] <= t[i].Threshold {
			i = t[i].Left
		} else {
			i = t[i].Right
		}
	}
	return t[i].Value
}

func (t Tree) check(features int) error {
	if len(t) == 0 {
		return fmt.Errorf("empty tree")
	}
	for i, n := range t {
		if n.Feature == -1 {
			if math.IsNaN(n.Value) || math.IsInf(n.Value, 0) {
				return fmt.Errorf("node %d: leaf value %v", i, n.Value)
			}
			continue
		}
		// Children come after their parent, so a walk always ends.
		if n.Feature < 0 || n.Feature >= features || n.Left <= i || n.Right <= i || n.Left >= len(t) || n.Right >= len(t) {
			return fmt.Errorf("node %d: feature %d, children %d and %d out of range", i, n.Feature, n.Left, n.Right)
		}
	}
	return nil
}

// BoostOptions tune LambdaMART. Zero values take the defaults.
type BoostOptions struct {
	// Trees is the number of boosting rounds. Default 100.
	Trees int
	// Leaves bounds each tree's leaves. Default 8.
	Leaves int
	// Rate is the shrinkage applied to each tree. Default 0.1.
	Rate float64
	// MinLeaf is the least number of candidates in a leaf. Default 50.
	MinLeaf int
	// Bins is how many quantile bins each feature's split points come from.
	// Default 64.
	Bins int
}

// DefaultBoostOptions are Boost's defaults.
var DefaultBoostOptions = BoostOptions{Trees: 100, Leaves: 8, Rate: 0.1, MinLeaf: 50, Bins: 64}

func (o BoostOptions) withDefaults() BoostOptions {
	d := DefaultBoostOptions
	if o.Trees <= 0 {
		o.Trees = d.Trees
	}
	if o.Leaves <= 1 {
		o.Leaves = d.Leaves
	}
	if o.Rate <= 0 {
		o.Rate = d.Rate
	}
	if o.MinLeaf <= 0 {
		o.MinLeaf = d.MinLeaf
	}
	if o.Bins <= 1 {
		o.Bins = d.Bins
	}
	return o
}

// Boost adds LambdaMART trees (Burges, 2010) to m: gradient-boosted
// regression trees fitted to the LambdaRank gradients of nDCG, starting
// from m's current scores. Each tree is grown best-leaf-first on binned
// feature values and its leaves take a Newton step.
func Boost(m *Model, examples []Example, opts BoostOptions) {
	opts = opts.withDefaults()
	var rows [][]float64
	var queries [][2]int // [start, end) of each query's rows
	for _, ex := range examples {
		queries = append(queries, [2]int{len(rows), len(rows) + len(ex.Candidates)})
		rows = append(rows, ex.Candidates...)
	}
	grades := make([]int, 0, len(rows))
	for _, ex := range examples {
		grades = append(grades, ex.Grades...)
	}
	scores := make([]float64, len(rows))
	for i, x := range rows {
		scores[i] = m.Score(x)
	}
	b := newBinned(rows, len(Features), opts.Bins)
	grad := make([]float64, len(rows))
	hess := make([]float64, len(rows))
	for range opts.Trees {
		lambdas(queries, grades, scores, grad, hess)
		t := b.grow(grad, hess, opts)
		for i, x := range rows {
			scores[i] += t.Eval(x)
		}
		m.Trees = append(m.Trees, t)
	}
}

// lambdas sets each row's LambdaRank gradient (towards a higher score) and
// its second derivative, from every pair of a query's rows with different
// grades, each pair weighted by the change in nDCG@10 that swapping them
// would make.
func lambdas(queries [][2]int, grades []int, scores, grad, hess []float64) {
	clear(grad)
	clear(hess)
	for _, q := range queries {
		lo, hi := q[0], q[1]
		order := make([]int, hi-lo)
		for i := range order {
			order[i] = lo + i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
		rank := make(map[int]int, len(order))
		for r, i := range order {
			rank[i] = r
		}
		idcg := idealDCG(grades[lo:hi])
		if idcg == 0 {
			continue
		}
		for i := lo; i < hi; i++ {
			for j := lo; j < hi; j++ {
				if grades[i] <= grades[j] {
					continue
				}
				ri, rj := rank[i], rank[j]
				if ri >= 10 && rj >= 10 {
					continue // swapping two rows below the cut changes nothing
				}
				delta := math.Abs((gain(grades[i]) - gain(grades[j])) * (discount(ri) - discount(rj)) / idcg)
				rho := 1 / (1 + math.Exp(scores[i]-scores[j]))
				grad[i] += delta * rho
				grad[j] -= delta * rho
				h := delta * rho * (1 - rho)
				hess[i] += h
				hess[j] += h
			}
		}
	}
}

func gain(g int) float64 { return float64(g) }

// discount is nDCG@10's discount at 0-based rank r, 0 past the cut.
func discount(r int) float64 {
	if r >= 10 {
		return 0
	}
	return 1 / math.Log2(float64(r+2))
}

// binned holds every row's feature values as bin numbers, and each bin's
// upper edge.
type binned struct {
	bins  [][]uint8   // [feature][row]
	edges [][]float64 // [feature][bin]: a value <= edges[b] is in bin b or below
}

func newBinned(rows [][]float64, features, bins int) *binned {
	b := &binned{bins: make([][]uint8, features), edges: make([][]float64, features)}
	for k := range features {
		vals := make([]float64, len(rows))
		for i, x := range rows {
			vals[i] = x[k]
		}
		sorted := slices.Clone(vals)
		slices.Sort(sorted)
		sorted = slices.Compact(sorted)
		var edges []float64
		for q := 1; q <= bins; q++ {
			e := sorted[min(len(sorted)-1, q*len(sorted)/bins)]
			if q == bins {
				e = sorted[len(sorted)-1]
			}
			if len(edges) == 0 || e > edges[len(edges)-1] {
				edges = append(edges, e)
			}
		}
		b.edges[k] = edges
		b.bins[k] = make([]uint8, len(rows))
		for i, v := range vals {
			j, _ := slices.BinarySearch(edges, v)
			b.bins[k][i] = uint8(min(j, len(edges)-1))
		}
	}
	return b
}

// leaf is a leaf of the tree being grown, with its rows and best split.
type leaf struct {
	node       int
	rows       []int
	grad, hess float64
	gain       float64
	feature    int
	bin        int
}

// grow fits one tree to the gradients, splitting the leaf with the largest
// gain until the tree has opts.Leaves leaves or no split gains.
func (b *binned) grow(grad, hess []float64, opts BoostOptions) Tree {
	all := make([]int, len(grad))
	for i := range all {
		all[i] = i
	}
	t := Tree{{Feature: -1}}
	leaves := []*leaf{b.bestSplit(0, all, grad, hess, opts)}
	for len(leaves) < opts.Leaves {
		best := -1
		for i, l := range leaves {
			if l.feature >= 0 && (best < 0 || l.gain > leaves[best].gain) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		l := leaves[best]
		var left, right []int
		for _, r := range l.rows {
			if int(b.bins[l.feature][r]) <= l.bin {
				left = append(left, r)
			} else {
				right = append(right, r)
			}
		}
		li, ri := len(t), len(t)+1
		t[l.node] = Node{Feature: l.feature, Threshold: b.edges[l.feature][l.bin], Left: li, Right: ri}
		t = append(t, Node{Feature: -1}, Node{Feature: -1})
		leaves[best] = b.bestSplit(li, left, grad, hess, opts)
		leaves = append(leaves, b.bestSplit(ri, right, grad, hess, opts))
	}
	for _, l := range leaves {
		// Newton step; the 1 keeps a leaf of near-zero curvature tame.
		t[l.node].Value = opts.Rate * l.grad / (l.hess + 1)
	}
	return t
}

// bestSplit sums a leaf's gradients and finds its best split: the one that
// most raises the sum over both sides of G^2/(H+1).
func (b *binned) bestSplit(node int, rows []int, grad, hess []float64, opts BoostOptions) *leaf {
	l := &leaf{node: node, rows: rows, feature: -1}
	for _, r := range rows {
		l.grad += grad[r]
		l.hess += hess[r]
	}
	if len(rows) < 2*opts.MinLeaf {
		return l
	}
	parent := l.grad * l.grad / (l.hess + 1)
	for k := range b.bins {
		nb := len(b.edges[k])
		g := make([]float64, nb)
		h := make([]float64, nb)
		c := make([]int, nb)
		for _, r := range rows {
			j := b.bins[k][r]
			g[j] += grad[r]
			h[j] += hess[r]
			c[j]++
		}
		var gl, hl float64
		var cl int
		for j := range nb - 1 {
			gl, hl, cl = gl+g[j], hl+h[j], cl+c[j]
			if cl < opts.MinLeaf || len(rows)-cl < opts.MinLeaf {
				continue
			}
			gr, hr := l.grad-gl, l.hess-hl
			if v := gl*gl/(hl+1) + gr*gr/(hr+1) - parent; v > l.gain {
				l.gain, l.feature, l.bin = v, k, j
			}
		}
	}
	return l
}
