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
// the body fields and returns the best q.Limit that pass q.Filter, best first.
// Each document's body sits in the field of its language, so each document
// is scored with the query analysed as its own language is, under that
// field's statistics; which fields a query searches depends on its detected
// language and on which fields hold documents (bodyAnalysis.queryFieldsAmong).
// Equal scores are ordered by document ID, so results are deterministic.
func (s *Store) SearchKeyword(ctx context.Context, q indexer.KeywordQuery) ([]indexer.Hit, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	r, release, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	stats, err := snapshotStats(r)
	if err != nil {
		return nil, err
	}
	populated := make(map[string]bool, len(stats.Fields))
	for f, fs := range stats.Fields {
		if fs.Docs > 0 {
			populated[f] = true
		}
	}
	fields := s.analyzer.queryFieldsAmong(q.Text, populated)
	if len(fields) == 0 {
		return nil, nil
	}
	if err := checkQueryTerms(fields); err != nil {
		return nil, err
	}

	allow, err := s.compileFilter(ctx, r, q.Filter)
	if err != nil {
		return nil, err
	}
	scores, err := s.scoreBM25(ctx, r, stats, fields, allow)
	if err != nil {
		return nil, err
	}
	return topHits(r, scores, q.Limit)
}

// Terms returns the index terms of text: what the keyword index would make
// of it (lower-cased, stop words dropped, stemmed) as a query, in the
// analysis of its detected language.
func (s *Store) Terms(text string) []string {
	return termStrings(s.analyzer.queryTerms(text))
}

// checkQueryTerms bounds the terms of each field a keyword query searches:
// each field opens a posting list per term, so all count, not only the
// first field's (the neutral analysis keeps stop words).
func checkQueryTerms(fields []fieldTerms) error {
	for _, f := range fields {
		if n := len(f.terms); n > MaxQueryTerms {
			return fmt.Errorf("query has %d terms after analysis, at most %d are allowed", n, MaxQueryTerms)
		}
	}
	return nil
}

// TermsIn returns the index terms of text analysed as a document in the
// language with BCP 47 tag language ("" for unknown) is: highlights compare
// a query with a document's sentences in the document's analysis.
func (s *Store) TermsIn(text, language string) []string {
	return termStrings(s.analyzer.terms(fieldForLanguage(language), text))
}

func termStrings(terms [][]byte) []string {
	out := make([]string, len(terms))
	for i, t := range terms {
		out[i] = string(t)
	}
	return out
}

// queryTerms analyzes text as a query in its detected language's field.
func (a *bodyAnalysis) queryTerms(text string) [][]byte {
	return a.terms(fieldForLanguage(a.detector().DetectQuery(text).Language), text)
}

// collectionStats returns what BM25 needs of one body field in snapshot r:
// the number of documents in the collection (all fields), which IDF is
// computed over, and the average analyzed length of the field's documents,
// which its length normalisation uses.
func collectionStats(r index.IndexReader, field string) (docs uint64, avgdl float64, err error) {
	stats, err := snapshotStats(r)
	if err != nil {
		return 0, 0, err
	}
	_, avgdl = stats.field(field)
	return uint64(max(stats.Docs, 0)), avgdl, nil
}

// fieldPostings is one query term's posting list in one body field.
type fieldPostings struct {
	term  []byte
	avgdl float64
	tfr   index.TermFieldReader
}

// scoreBM25 returns the BM25 score of each document matching a term of
// fields, keyed by its internal number in the snapshot r, whose statistics
// are stats. A document's body
// is in one field, so its score comes from that field alone. IDF is taken
// over the whole collection, with a term's document frequency the largest
// it has in any field searched (the blending of Elasticsearch's cross_fields
// queries): a word is not made rare by being counted only among one
// language's documents. On a collection in one language this is exactly
// BM25 over that language's field.
func (s *Store) scoreBM25(ctx context.Context, r index.IndexReader, stats corpusStats, fields []fieldTerms, allow docSet) (map[uint64]float64, error) {
	var lists []fieldPostings
	defer func() {
		for _, l := range lists {
			l.tfr.Close()
		}
	}()
	df := map[string]uint64{}
	for _, f := range fields {
		docs, avgdl := stats.field(f.field)
		if docs <= 0 {
			continue
		}
		for _, term := range f.terms {
			tfr, err := r.TermFieldReader(ctx, term, f.field, true, true, false)
			if err != nil {
				return nil, fmt.Errorf("read postings of %q in %s: %w", term, f.field, err)
			}
			lists = append(lists, fieldPostings{term: term, avgdl: avgdl, tfr: tfr})
			df[string(term)] = max(df[string(term)], tfr.Count())
		}
	}
	n := float64(stats.Docs)
	bm := s.opts.BM25
	scores := make(map[uint64]float64)
	var tfd index.TermFieldDoc
	for _, l := range lists {
		idf := bm.IDF(n, float64(df[string(l.term)]))
		for i := 0; ; i++ {
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			p, err := l.tfr.Next(&tfd)
			if err != nil {
				return nil, fmt.Errorf("read postings of %q: %w", l.term, err)
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
			scores[num] += bm.TermScore(idf, float64(p.Freq), dl, l.avgdl)
		}
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
