// Package rerank holds Cari's re-rankers: a learned linear ranker that runs
// in-process with nothing else to start (the default), and clients of model
// servers the operator runs (OpenAI-compatible chat completions, pointwise
// with logprobs or listwise, and /v1/rerank).
package rerank

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/cari-search/cari/searcher"
)

// Features lists the signals the learned ranker combines, in the order of a
// feature vector. Scores that mean little across queries (BM25, cosine) are
// taken relative to the best candidate of the same query.
var Features = []string{
	"bm25_rel",        // BM25 / best BM25 among the candidates
	"kw_rrank",        // 1 / keyword rank, 0 if the keyword side missed it
	"vec_rel",         // cosine - best cosine among the candidates, -1 if missed
	"vec_rrank",       // 1 / vector rank, 0 if the vector side missed it
	"fused_rel",       // first-stage score / best first-stage score
	"coverage",        // IDF-weighted share of query terms in the document
	"title_coverage",  // the same in the title
	"proximity",       // matched terms / shortest window holding them
	"first_match",     // position of the first match / length
	"log_length",      // ln(1 + analyzed length)
	"ordered_pairs",   // IDF-weighted share of query bigrams found in order
	"unordered_pairs", // the same within a window of 8, any order
	"title_bm25_rel",  // title BM25 / best title BM25 among the candidates
	"missing_idf",     // IDF of the rarest query term the document lacks / the rarest's
	"window_12",       // coverage within the best window of 12 positions
	"window_24",       // the same within 24 (about a sentence)
	"window_48",       // the same within 48
}

// FeatureVectors turns one query's candidates into feature vectors (one per
// candidate, in Features order).
func FeatureVectors(cands []searcher.Candidate) [][]float64 {
	var maxBM25, maxFused, maxTitle float64
	maxVec := math.Inf(-1)
	for _, c := range cands {
		maxBM25 = max(maxBM25, c.Match.BM25)
		maxFused = max(maxFused, c.Retrieval.FusedScore)
		maxTitle = max(maxTitle, c.Match.TitleBM25)
		if c.Retrieval.VectorRank > 0 {
			maxVec = max(maxVec, c.Retrieval.VectorScore)
		}
	}
	out := make([][]float64, len(cands))
	for i, c := range cands {
		r, m := c.Retrieval, c.Match
		vecRel := -1.0
		if r.VectorRank > 0 {
			vecRel = r.VectorScore - maxVec
		}
		out[i] = []float64{
			ratio(m.BM25, maxBM25),
			recip(r.KeywordRank),
			vecRel,
			recip(r.VectorRank),
			ratio(r.FusedScore, maxFused),
			m.Coverage,
			m.TitleCoverage,
			m.Proximity,
			m.FirstMatch,
			math.Log1p(m.Length),
			m.OrderedPairs,
			m.UnorderedPairs,
			ratio(m.TitleBM25, maxTitle),
			m.MissingIDF,
			m.WindowCoverage[0],
			m.WindowCoverage[1],
			m.WindowCoverage[2],
		}
	}
	return out
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func recip(rank int) float64 {
	if rank <= 0 {
		return 0
	}
	return 1 / float64(rank)
}

// Model is a linear ranker over standardised features, optionally followed
// by boosted regression trees over the raw features (see Boost); the score
// is the sum of both.
type Model struct {
	// Features names the inputs, to refuse a model file from another build.
	Features []string  `json:"features"`
	Mean     []float64 `json:"mean"`
	Std      []float64 `json:"std"`
	Weights  []float64 `json:"weights"`
	Trees    []Tree    `json:"trees,omitempty"`
	// TrainedOn records the data and settings the weights come from.
	TrainedOn string `json:"trained_on"`
}

// Score returns the model's score of one feature vector.
func (m *Model) Score(x []float64) float64 {
	var s float64
	for j, v := range x {
		s += m.Weights[j] * (v - m.Mean[j]) / m.Std[j]
	}
	for _, t := range m.Trees {
		s += t.Eval(x)
	}
	return s
}

func (m *Model) check() error {
	n := len(Features)
	if len(m.Features) != n || len(m.Mean) != n || len(m.Std) != n || len(m.Weights) != n {
		return fmt.Errorf("model has %d features, this build computes %d", len(m.Features), n)
	}
	for j, f := range Features {
		if m.Features[j] != f {
			return fmt.Errorf("model feature %d is %q, this build computes %q", j, m.Features[j], f)
		}
		if !(m.Std[j] > 0) || math.IsNaN(m.Weights[j]) || math.IsNaN(m.Mean[j]) {
			return fmt.Errorf("model feature %q has invalid statistics", f)
		}
	}
	for i, t := range m.Trees {
		if err := t.check(n); err != nil {
			return fmt.Errorf("model tree %d: %w", i, err)
		}
	}
	return nil
}

//go:embed default_model.json
var defaultModel []byte

// LoadModel reads a model file written by cari train-reranker; an empty path
// gives the model trained on scifact/train that ships in the binary.
func LoadModel(path string) (*Model, error) {
	b := defaultModel
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("read re-ranker model: %w", err)
		}
	}
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("re-ranker model %s: %w", path, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("re-ranker model %s: %w; retrain it with cari train-reranker", path, err)
	}
	return &m, nil
}

// WriteFile writes the model as LoadModel reads it: indented JSON.
func (m *Model) WriteFile(path string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Learned is the embedded re-ranker: a linear model over features the first
// stage already computed, so it costs microseconds per candidate.
type Learned struct {
	model *Model
	name  string
}

// NewLearned returns a re-ranker using m.
func NewLearned(m *Model) *Learned {
	kind := "linear"
	if len(m.Trees) > 0 {
		kind = "lambdamart"
	}
	return &Learned{model: m, name: "cari/learned-" + kind + "(" + m.TrainedOn + ")"}
}

// Name identifies the model.
func (l *Learned) Name() string { return l.name }

// Rerank scores the candidates.
func (l *Learned) Rerank(_ context.Context, _ string, cands []searcher.Candidate) ([]float64, error) {
	xs := FeatureVectors(cands)
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = l.model.Score(x)
	}
	return out, nil
}
