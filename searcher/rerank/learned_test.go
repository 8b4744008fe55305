package rerank

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/store"
)

func TestDefaultModelLoads(t *testing.T) {
	m, err := LoadModel("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.TrainedOn, "scifact/train") {
		t.Errorf("default model trained on %q, want scifact/train", m.TrainedOn)
	}
}

func TestModelWriteFileReadsBack(t *testing.T) {
	m, err := LoadModel("")
	if err != nil {
		t.Fatal(err)
	}
	m.TrainedOn = "a test"
	p := filepath.Join(t.TempDir(), "model.json")
	if err := m.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	back, err := LoadModel(p)
	if err != nil || back.TrainedOn != "a test" || len(back.Weights) != len(m.Weights) {
		t.Errorf("read back %+v, %v", back, err)
	}
	if err := Close(NewLearned(m)); err != nil {
		t.Errorf("Close of a learned re-ranker: %v", err)
	}
}

func TestLoadModelRefusesMismatch(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"junk.json":  "not json",
		"few.json":   `{"features":["bm25_rel"],"mean":[0],"std":[1],"weights":[1]}`,
		"empty.json": `{}`,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadModel(p); err == nil {
			t.Errorf("LoadModel(%s) accepted a bad model", name)
		}
	}
	if _, err := LoadModel(filepath.Join(dir, "absent.json")); err == nil {
		t.Error("LoadModel of a missing file succeeded")
	}
}

// randomQueries makes queries of 20 candidates with random features, one
// of them relevant, and lets set change each candidate's features.
func randomQueries(r *rand.Rand, queries int, set func(x []float64, relevant bool)) []Example {
	var out []Example
	for range queries {
		var ex Example
		rel := r.IntN(20)
		for i := range 20 {
			x := make([]float64, len(Features))
			for k := range x {
				x[k] = r.Float64()
			}
			set(x, i == rel)
			g := 0
			if i == rel {
				g = 1
			}
			ex.Candidates = append(ex.Candidates, x)
			ex.Grades = append(ex.Grades, g)
		}
		out = append(out, ex)
	}
	return out
}

// synthetic makes queries whose relevant candidate has higher coverage and
// an earlier first match, and otherwise random features.
func synthetic(r *rand.Rand, queries int) []Example {
	return randomQueries(r, queries, func(x []float64, relevant bool) {
		if relevant {
			x[5] += 0.8 // coverage
			x[8] -= 0.5 // first_match
		}
	})
}

func TestTrainLearnsTheSignal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	train, test := synthetic(r, 200), synthetic(r, 200)
	m, err := Train(train, TrainOptions{}, "synthetic")
	if err != nil {
		t.Fatal(err)
	}
	if m.Weights[5] <= 0 || m.Weights[8] >= 0 {
		t.Errorf("weights coverage %v, first_match %v: want positive and negative", m.Weights[5], m.Weights[8])
	}
	before := meanNDCG(&Model{Features: Features, Mean: m.Mean, Std: m.Std, Weights: make([]float64, len(Features))}, test)
	after := meanNDCG(m, test)
	if after < 0.9 || after <= before {
		t.Errorf("held-out nDCG@10 %.3f (untrained %.3f), want >= 0.9", after, before)
	}
	Refine(m, train, 5)
	if got := meanNDCG(m, train); got < after-0.05 {
		t.Errorf("refined train nDCG@10 %.3f fell well below the pairwise model's held-out %.3f", got, after)
	}
	if _, err := Train([]Example{{Candidates: [][]float64{make([]float64, len(Features))}, Grades: []int{0}}}, TrainOptions{}, "x"); err == nil {
		t.Error("Train without any pair succeeded")
	}
}

func TestLearnedRerank(t *testing.T) {
	m, err := LoadModel("")
	if err != nil {
		t.Fatal(err)
	}
	l := NewLearned(m)
	strong := searcher.Candidate{Document: cari.Document{ID: "strong"}, Retrieval: searcher.Fused{KeywordRank: 1, FusedScore: 1},
		Match: store.MatchFeatures{BM25: 10, Coverage: 1, TitleCoverage: 1, Proximity: 1, FirstMatch: 0, Length: 100}}
	weak := searcher.Candidate{Document: cari.Document{ID: "weak"}, Retrieval: searcher.Fused{KeywordRank: 2, FusedScore: 0.2},
		Match: store.MatchFeatures{BM25: 2, Coverage: 0.2, Proximity: 0.1, FirstMatch: 0.9, Length: 100}}
	scores, err := l.Rerank(context.Background(), "q", []searcher.Candidate{weak, strong})
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != 2 || scores[1] <= scores[0] {
		t.Errorf("scores %v: the candidate matching better on every feature must score higher", scores)
	}
	if !strings.HasPrefix(l.Name(), "cari/learned-linear") {
		t.Errorf("Name = %q", l.Name())
	}
}
