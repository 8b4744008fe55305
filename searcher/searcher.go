// Package searcher answers queries: it chooses the retrieval, runs it against
// a store, and turns the hits into results with the contents asked for.
package searcher

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
)

// Store is what the searcher needs from an index.
type Store interface {
	// SearchKeyword returns the best BM25 matches that pass the filter.
	SearchKeyword(ctx context.Context, q indexer.KeywordQuery) ([]indexer.Hit, error)
	// Documents loads stored documents; missing IDs are absent from the map.
	Documents(ctx context.Context, ids []string) (map[string]cari.Document, error)
	// IDsForURLs maps stored documents' URLs to their IDs; URLs not stored
	// are absent from the map.
	IDsForURLs(ctx context.Context, urls []string) (map[string]string, error)
}

// ErrUnavailable is returned for a search type that this searcher cannot
// run, such as neural search without an embedding model.
var ErrUnavailable = errors.New("search type unavailable")

// Searcher runs queries against one store. It is safe for concurrent use.
type Searcher struct {
	store Store
}

// New returns a Searcher over store.
func New(store Store) *Searcher {
	return &Searcher{store: store}
}

// Result is one document found, with the contents asked for.
type Result struct {
	Document cari.Document
	// Score is the document's score under the retrieval that ran; higher is
	// better. Scores are comparable only within one response.
	Score float64
	// Text is set only when the query asked for contents text.
	Text *string
}

// StageTiming is how long one stage of a search took.
type StageTiming struct {
	Stage    string
	Duration time.Duration
}

// Response is the answer to a Query.
type Response struct {
	// Type is the retrieval that ran (never TypeAuto).
	Type    Type
	Results []Result
	Timings []StageTiming
}

// Search validates q and runs it.
func (s *Searcher) Search(ctx context.Context, q Query) (*Response, error) {
	if err := q.Normalize(); err != nil {
		return nil, err
	}
	resp := &Response{Type: s.resolve(q)}
	if resp.Type != TypeKeyword {
		return nil, fmt.Errorf("%w: %s search needs an embedding model, and this server has none configured; use type keyword or auto",
			ErrUnavailable, resp.Type)
	}
	start := time.Now()
	hits, err := s.store.SearchKeyword(ctx, indexer.KeywordQuery{Text: q.Text, Filter: q.Filter, Limit: q.NumResults})
	if err != nil {
		return nil, fmt.Errorf("keyword retrieval: %w", err)
	}
	resp.Timings = append(resp.Timings, StageTiming{"keyword", time.Since(start)})

	start = time.Now()
	resp.Results, err = s.results(ctx, hits, q.Contents)
	if err != nil {
		return nil, err
	}
	resp.Timings = append(resp.Timings, StageTiming{"contents", time.Since(start)})
	return resp, nil
}

// resolve picks the retrieval for a query. Without an embedding model every
// query runs on keywords.
func (s *Searcher) resolve(q Query) Type {
	if q.Type == TypeAuto {
		return TypeKeyword
	}
	return q.Type
}

// results loads the hits' documents. A hit whose document vanished between
// retrieval and loading (a concurrent delete) is dropped.
func (s *Searcher) results(ctx context.Context, hits []indexer.Hit, c Contents) ([]Result, error) {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	docs, err := s.store.Documents(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load results: %w", err)
	}
	out := make([]Result, 0, len(hits))
	for _, h := range hits {
		d, ok := docs[h.ID]
		if !ok {
			continue
		}
		out = append(out, Result{Document: d, Score: h.Score, Text: textContents(d, c)})
	}
	return out, nil
}

func textContents(d cari.Document, c Contents) *string {
	if !c.Text {
		return nil
	}
	t := Truncate(d.Text, c.MaxCharacters)
	return &t
}

// Truncate cuts s to at most max characters (runes), never inside a UTF-8
// sequence. max <= 0 means no limit.
func Truncate(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}
