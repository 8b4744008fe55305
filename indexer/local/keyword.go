package local

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari/indexer"
)

// MaxQueryTerms bounds the analyzed terms of one keyword query: each term is
// one pass over a posting list.
const MaxQueryTerms = 1024

// SearchKeyword scores every document containing a query term with BM25 over
// the body field and returns the best q.Limit that pass q.Filter, best first.
// Equal scores are ordered by document ID, so results are deterministic.
func (s *Store) SearchKeyword(ctx context.Context, q indexer.KeywordQuery) ([]indexer.Hit, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	terms := s.queryTerms(q.Text)
	if len(terms) == 0 {
		return nil, nil
	}
	if len(terms) > MaxQueryTerms {
		return nil, fmt.Errorf("query has %d terms after analysis, at most %d are allowed", len(terms), MaxQueryTerms)
	}
	r, release, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()

	allow, err := s.compileFilter(ctx, r, q.Filter)
	if err != nil {
		return nil, err
	}
	scores, err := s.scoreBM25(ctx, r, terms, allow)
	if err != nil {
		return nil, err
	}
	return topHits(r, scores, q.Limit)
}

// Terms returns the index terms of text: what the keyword index would make
// of it (lower-cased, stop words dropped, stemmed).
func (s *Store) Terms(text string) []string {
	terms := s.queryTerms(text)
	out := make([]string, len(terms))
	for i, t := range terms {
		out[i] = string(t)
	}
	return out
}

// queryTerms analyzes text with the body analyzer. Repeated terms stay
// repeated: a term the user wrote twice counts twice, as in Lucene.
func (s *Store) queryTerms(text string) [][]byte {
	tokens := s.analyzer.Analyze([]byte(text))
	terms := make([][]byte, 0, len(tokens))
	for _, t := range tokens {
		terms = append(terms, t.Term)
	}
	return terms
}

// collectionStats returns what BM25 needs of the whole collection in
// snapshot r: the document count and the average analyzed body length.
func collectionStats(r index.IndexReader) (docs uint64, avgdl float64, err error) {
	stats, err := snapshotStats(r)
	if err != nil {
		return 0, 0, err
	}
	docs, err = r.DocCount()
	return docs, stats.avgBodyLen(), err
}

// scoreBM25 accumulates each matching document's BM25 score, keyed by its
// internal number in the snapshot r.
func (s *Store) scoreBM25(ctx context.Context, r index.IndexReader, terms [][]byte, allow docSet) (map[uint64]float64, error) {
	n, avgdl, err := collectionStats(r)
	if err != nil {
		return nil, err
	}
	bm := s.opts.BM25
	scores := make(map[uint64]float64)
	var tfd index.TermFieldDoc
	for _, term := range terms {
		tfr, err := r.TermFieldReader(ctx, term, fieldBody, true, true, false)
		if err != nil {
			return nil, fmt.Errorf("read postings of %q: %w", term, err)
		}
		idf := bm.IDF(float64(n), float64(tfr.Count()))
		for i := 0; ; i++ {
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					tfr.Close()
					return nil, err
				}
			}
			p, err := tfr.Next(&tfd)
			if err != nil {
				tfr.Close()
				return nil, fmt.Errorf("read postings of %q: %w", term, err)
			}
			if p == nil {
				break
			}
			num := p.ID.Value()
			if !allow.has(num) {
				continue
			}
			// bleve stores norm = 1/sqrt(field length) as a float32; rounding
			// recovers the exact length.
			dl := math.Round(1 / float64(p.Norm*p.Norm))
			scores[num] += bm.TermScore(idf, float64(p.Freq), dl, avgdl)
		}
		tfr.Close()
	}
	return scores, nil
}

// topHits selects the limit best-scoring documents and resolves their IDs.
// Equal scores are ordered by document ID: internal numbers change when
// segments merge, IDs do not, so the same query on the same documents always
// returns the same list. Only the documents tied with the last place are
// resolved beyond the limit.
func topHits(r index.IndexReader, scores map[uint64]float64, limit int) ([]indexer.Hit, error) {
	h := make(minHeap, 0, limit+1)
	for num, sc := range scores {
		e := scored{num: num, score: sc}
		if len(h) < limit {
			heap.Push(&h, e)
		} else if e.better(h[0]) {
			h[0] = e
			heap.Fix(&h, 0)
		}
	}
	if len(h) == 0 {
		return nil, nil
	}
	last := h[0].score
	cands := make([]scored, 0, len(h))
	for _, e := range h {
		if e.score > last {
			cands = append(cands, e)
		}
	}
	for num, sc := range scores {
		if sc == last {
			cands = append(cands, scored{num: num, score: sc})
		}
	}
	hits := make([]indexer.Hit, len(cands))
	buf := make(index.IndexInternalID, 8)
	for i, e := range cands {
		buf.SetValue(e.num)
		id, err := r.ExternalID(buf)
		if err != nil {
			return nil, fmt.Errorf("resolve document %d: %w", e.num, err)
		}
		hits[i] = indexer.Hit{ID: id, Score: e.score}
	}
	slices.SortFunc(hits, func(a, b indexer.Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return hits[:min(limit, len(hits))], nil
}

type scored struct {
	num   uint64
	score float64
}

// better orders by score, then by internal number; topHits re-orders ties
// by ID.
func (a scored) better(b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.num < b.num
}

// minHeap keeps the worst of the best at the root.
type minHeap []scored

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[j].better(h[i]) }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
