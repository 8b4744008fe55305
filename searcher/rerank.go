package searcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// Reranker re-scores the best candidates of the first stage with a stronger
// model. Implementations live in searcher/rerank.
type Reranker interface {
	// Rerank returns one score per candidate, in the candidates' order;
	// higher is more relevant.
	Rerank(ctx context.Context, query string, cands []Candidate) ([]float64, error)
	// Name identifies the model, for the score cache and the response.
	Name() string
}

// Candidate is a document offered to a re-ranker with everything the first
// stage knows about it.
type Candidate struct {
	Document cari.Document
	// Passage is the document's best passage on the vector side, or the
	// start of its text.
	Passage string
	// Retrieval holds the first stage's ranks and scores.
	Retrieval Fused
	// Match describes how the document matches the query's terms.
	Match store.MatchFeatures
}

// MaxRerankTopN bounds the candidates one query may send to the re-ranker.
const MaxRerankTopN = 100

// RerankOptions configure re-ranking.
type RerankOptions struct {
	// TopN is how many candidates are re-ranked. Default 50.
	TopN int
	// Timeout bounds the re-ranker's time per query; past it the fused
	// order stands. Default 2s.
	Timeout time.Duration
	// CacheSize is how many (model, query, document) scores are kept.
	// Default 100,000; negative turns the cache off.
	CacheSize int
	// PassageChars caps the passage text sent to a re-ranker. Default 2,000.
	PassageChars int
}

// DefaultRerank holds the re-ranking defaults.
var DefaultRerank = RerankOptions{TopN: 50, Timeout: 2 * time.Second, CacheSize: 100_000, PassageChars: 2000}

func (o RerankOptions) withDefaults() RerankOptions {
	if o.TopN <= 0 {
		o.TopN = DefaultRerank.TopN
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultRerank.Timeout
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultRerank.CacheSize
	}
	if o.PassageChars <= 0 {
		o.PassageChars = DefaultRerank.PassageChars
	}
	return o
}

func (s *Searcher) rerankWanted(q Query) bool {
	if s.opts.Reranker == nil {
		return false
	}
	return q.Rerank == nil || *q.Rerank
}

func (s *Searcher) rerankDepth(q Query) int {
	if q.RerankTopN > 0 {
		return q.RerankTopN
	}
	return s.opts.Rerank.TopN
}

// rerank re-orders the first rerankDepth candidates, and returns with them
// the documents it loaded for the re-ranker (the candidates whose scores
// were not cached), so that the results need not load them again. It never
// fails the search: on any error or timeout the first-stage order stands
// and the response says why.
func (s *Searcher) rerank(ctx context.Context, q Query, ranked []Fused, resp *Response, timer *stageTimer) ([]Fused, map[string]cari.Document) {
	n := min(len(ranked), s.rerankDepth(q))
	if n == 0 {
		resp.RerankSkipped = "nothing to re-rank: the first stage found no results"
		return ranked, nil
	}
	rctx, cancel := context.WithTimeout(ctx, s.opts.Rerank.Timeout)
	defer cancel()
	scores, loaded, err := s.rerankScores(rctx, q.Text, ranked[:n])
	timer.mark("rerank")
	if err != nil {
		resp.RerankSkipped = rerankFailure(err, s.opts.Rerank.Timeout)
		return ranked, loaded
	}
	head := slices.Clone(ranked[:n])
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	for i, j := range order {
		ranked[i] = head[j]
		ranked[i].Score = positiveScore(scores[j])
		ranked[i].RerankScore = scores[j]
		ranked[i].Reranked = true
	}
	// Candidates past the re-ranking depth keep their order below the
	// re-ranked head; their scores fall in equal steps from its lowest
	// towards 0, so that scores never increase down the list and never
	// turn negative.
	lowest, steps := ranked[n-1].Score, float64(len(ranked)-n+1)
	for i := n; i < len(ranked); i++ {
		ranked[i].Score = lowest * float64(len(ranked)-i) / steps
	}
	resp.Reranked = true
	return ranked, loaded
}

// positiveScore maps a re-ranker's score, which may be any real number (a
// linear model's or a cross-encoder's logit), onto the positive numbers
// in the same order: s+1 from 0 up, 1/(1-s) below, so that a result's score
// is never negative. The re-ranker's own score stays in Fused.RerankScore.
func positiveScore(s float64) float64 {
	if s >= 0 {
		return 1 + s
	}
	return 1 / (1 - s)
}

func rerankFailure(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("re-ranker did not answer within %s; results are in first-stage order", timeout)
	}
	return fmt.Sprintf("re-ranker failed (%v); results are in first-stage order", err)
}

// rerankScores returns the re-ranker's scores for the candidates, from the
// cache where it has them, and the documents it loaded for the rest.
func (s *Searcher) rerankScores(ctx context.Context, query string, ranked []Fused) ([]float64, map[string]cari.Document, error) {
	name := s.opts.Reranker.Name()
	// A re-ranker whose scores only order one call's candidates (listwise)
	// cannot be answered in part from the cache.
	d, setDependent := s.opts.Reranker.(interface{ SetDependent() bool })
	cacheable := !setDependent || !d.SetDependent()
	scores := make([]float64, len(ranked))
	var missing []int
	for i, f := range ranked {
		if sc, ok := s.cache.get(name, query, f.ID); ok && cacheable {
			scores[i] = sc
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return scores, nil, nil
	}
	cands, err := s.candidates(ctx, query, ranked, missing)
	if err != nil {
		return nil, nil, err
	}
	loaded := make(map[string]cari.Document, len(cands))
	for _, c := range cands {
		if c.Document.ID != "" {
			loaded[c.Document.ID] = c.Document
		}
	}
	got, err := s.opts.Reranker.Rerank(ctx, query, cands)
	if err != nil {
		return nil, loaded, err
	}
	if len(got) != len(cands) {
		return nil, loaded, fmt.Errorf("re-ranker returned %d scores for %d candidates", len(got), len(cands))
	}
	for k, i := range missing {
		scores[i] = got[k]
		if cacheable {
			s.cache.put(name, query, ranked[i].ID, got[k])
		}
	}
	return scores, loaded, nil
}

// Candidates runs the first stage of q and returns its best n documents as
// a re-ranker sees them, in first-stage order. Training a re-ranker starts
// here.
func (s *Searcher) Candidates(ctx context.Context, q Query, n int) ([]Candidate, error) {
	if err := q.Normalize(s.opts.MaxQueryChars); err != nil {
		return nil, err
	}
	resp := &Response{Type: s.resolve(q)}
	ranked, err := s.retrieve(ctx, q, resp.Type, n, s.startTimer(resp))
	if err != nil {
		return nil, err
	}
	idx := make([]int, len(ranked))
	for i := range idx {
		idx[i] = i
	}
	return s.candidates(ctx, q.Text, ranked, idx)
}

// candidates loads what a re-ranker sees of ranked[i] for each i in idx,
// reading each document once for its text and its match features. A
// document deleted since retrieval is offered empty.
func (s *Searcher) candidates(ctx context.Context, query string, ranked []Fused, idx []int) ([]Candidate, error) {
	ids := make([]string, len(idx))
	for k, i := range idx {
		ids[k] = ranked[i].ID
	}
	matched, err := s.store.MatchDocuments(ctx, query, ids)
	if err != nil {
		return nil, fmt.Errorf("load candidates: %w", err)
	}
	out := make([]Candidate, len(idx))
	for k, i := range idx {
		m := matched[ranked[i].ID]
		out[k] = Candidate{
			Document:  m.Document,
			Passage:   s.passage(m.Document, ranked[i]),
			Retrieval: ranked[i],
			Match:     m.Match,
		}
	}
	return out, nil
}

// passage is the text a re-ranker reads: the best vector passage when there
// is one, else the start of the document.
func (s *Searcher) passage(d cari.Document, f Fused) string {
	text := d.Text
	if f.VectorRank > 0 && f.Passage < len(d.Chunks) {
		if c := d.Chunks[f.Passage]; c.Start <= c.End && c.End <= len(d.Text) {
			text = d.Text[c.Start:c.End]
		}
	}
	return cari.Truncate(text, s.opts.Rerank.PassageChars, "")
}

// scoreCache keeps re-ranker scores by (model, query, document), bounded,
// evicting the oldest entries first.
type scoreCache struct {
	mu    sync.Mutex
	max   int
	m     map[scoreKey]float64
	order []scoreKey
}

type scoreKey struct{ model, query, id string }

func newScoreCache(max int) *scoreCache {
	if max < 0 {
		max = 0
	}
	return &scoreCache{max: max, m: make(map[scoreKey]float64)}
}

func (c *scoreCache) get(model, query, id string) (float64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[scoreKey{model, query, id}]
	return v, ok
}

func (c *scoreCache) put(model, query, id string, v float64) {
	if c.max == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := scoreKey{model, query, id}
	if _, ok := c.m[k]; !ok {
		c.order = append(c.order, k)
	}
	c.m[k] = v
	for len(c.order) > c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
}
