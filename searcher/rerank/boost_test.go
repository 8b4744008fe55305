package rerank

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// quadrants makes queries whose relevant candidate has features 0 and 1
// both high or both low, while every other candidate has one high and one
// low: a signal no linear model can use and two levels of a tree can.
func quadrants(r *rand.Rand, queries int) []Example {
	side := func(high bool) float64 {
		if high {
			return 0.6 + 0.4*r.Float64()
		}
		return 0.4 * r.Float64()
	}
	return randomQueries(r, queries, func(x []float64, relevant bool) {
		a := r.IntN(2) == 0
		b := !a
		if relevant {
			b = a
		}
		x[0], x[1] = side(a), side(b)
	})
}

func TestBoostLearnsAnInteraction(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	train, test := quadrants(r, 300), quadrants(r, 200)
	m, err := Train(train, TrainOptions{}, "quadrants")
	if err != nil {
		t.Fatal(err)
	}
	linear := meanNDCG(m, test)
	Boost(m, train, BoostOptions{Trees: 60, Leaves: 4, Rate: 0.3})
	boosted := meanNDCG(m, test)
	if boosted < 0.9 || boosted < linear+0.3 {
		t.Errorf("held-out nDCG@10: linear %.3f, boosted %.3f; want boosted >= 0.9 and well above linear", linear, boosted)
	}
	if len(m.Trees) != 60 {
		t.Fatalf("%d trees, want 60", len(m.Trees))
	}
	for i, tr := range m.Trees {
		if err := tr.check(len(Features)); err != nil {
			t.Fatalf("tree %d: %v", i, err)
		}
		if len(tr) > 2*4-1 {
			t.Fatalf("tree %d has %d nodes, more than 4 leaves allow", i, len(tr))
		}
	}

	// The boosted model survives a round trip through its file.
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "m.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadModel(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := meanNDCG(loaded, test); got != boosted {
		t.Errorf("loaded model scores %.4f, the trained one %.4f", got, boosted)
	}
	if name := NewLearned(loaded).Name(); name != "cari/learned-lambdamart(quadrants)" {
		t.Errorf("Name = %q", name)
	}
}

func TestLoadModelRefusesBadTrees(t *testing.T) {
	m, err := LoadModel("")
	if err != nil {
		t.Fatal(err)
	}
	leaf := Node{Feature: -1, Value: 1}
	for name, tr := range map[string]Tree{
		"empty":            {},
		"child before":     {{Feature: 0, Left: 0, Right: 1}, leaf},
		"child past end":   {{Feature: 0, Left: 1, Right: 5}, leaf},
		"unknown feature":  {{Feature: len(Features), Left: 1, Right: 2}, leaf, leaf},
		"negative feature": {{Feature: -2, Left: 1, Right: 2}, leaf, leaf},
	} {
		bad := *m
		bad.Trees = []Tree{tr}
		b, err := json.Marshal(&bad)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "m.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadModel(p); err == nil {
			t.Errorf("LoadModel accepted a model with a tree %s", name)
		}
	}
}

func TestTreeEval(t *testing.T) {
	tr := Tree{
		{Feature: 1, Threshold: 0.5, Left: 1, Right: 2},
		{Feature: -1, Value: -1},
		{Feature: 0, Threshold: 2, Left: 3, Right: 4},
		{Feature: -1, Value: 3},
		{Feature: -1, Value: 7},
	}
	for _, tt := range []struct {
		x    []float64
		want float64
	}{
		{[]float64{9, 0.5}, -1},
		{[]float64{2, 0.6}, 3},
		{[]float64{2.1, 0.6}, 7},
	} {
		if got := tr.Eval(tt.x); got != tt.want {
			t.Errorf("Eval(%v) = %v, want %v", tt.x, got, tt.want)
		}
	}
}

func TestFoldsKeepSharedRelevantTogether(t *testing.T) {
	var exs []Example
	// Queries 3i, 3i+1 and 3i+2 share relevant document i; query 3i+2
	// also shares document i+1000 with query 3(i+1)+2 for even i.
	for i := range 40 {
		for j := range 3 {
			ex := Example{Relevant: []string{fmt.Sprint(i)}}
			if j == 2 {
				ex.Relevant = append(ex.Relevant, fmt.Sprint(1000+i-i%2))
			}
			exs = append(exs, ex)
		}
	}
	fold := folds(exs, 5)
	size := make([]int, 5)
	for i := range exs {
		size[fold[i]]++
		if fold[i] != fold[i-i%3] {
			t.Fatalf("queries %d and %d share a relevant document but are in folds %d and %d", i, i-i%3, fold[i], fold[i-i%3])
		}
		if i%3 == 2 && (i/3)%2 == 0 && fold[i] != fold[i+3] {
			t.Fatalf("queries %d and %d share a relevant document but are in folds %d and %d", i, i+3, fold[i], fold[i+3])
		}
	}
	for f, n := range size {
		if n < 18 || n > 30 {
			t.Errorf("fold sizes %v: fold %d is unbalanced", size, f)
		}
	}
}

func TestCrossValidate(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	exs := synthetic(r, 100)
	for i := range exs {
		exs[i].Relevant = []string{fmt.Sprint(i)}
	}
	exs = append(exs, Example{Candidates: exs[0].Candidates, Grades: make([]int, 20), Relevant: []string{"unfound"}})
	cv, err := CrossValidate(exs, 4, func(train []Example) (*Model, error) { return Train(train, TrainOptions{}, "") })
	if err != nil {
		t.Fatal(err)
	}
	if cv.Queries != 100 {
		t.Errorf("%d queries scored, want 100 (the one without a relevant candidate left out)", cv.Queries)
	}
	if cv.Model < 0.9 || cv.FirstStage > 0.6 || cv.StdErr <= 0 || cv.StdErr > 0.1 {
		t.Errorf("cross-validation %+v: want the model near 1, the random first stage far below, a small positive standard error", cv)
	}
}
