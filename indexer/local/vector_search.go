package local

import (
	"context"
	"errors"
	"fmt"

	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari/indexer"
)

// ErrNoVectors is returned by SearchVector when the store holds no vectors
// this process can compare with: a keyword-only generation, or a process
// started without the generation's embedding model.
var ErrNoVectors = errors.New("no vectors to search")

// SearchVector returns the documents whose best passage is most similar to
// q.Vector, best first, among those that pass q.Filter.
func (s *Store) SearchVector(ctx context.Context, q indexer.VectorQuery) ([]indexer.Hit, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	r, release, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	defer release()
	if s.vecs == nil {
		return nil, fmt.Errorf("%w: generation %s has vectors of %s, and this process embeds with %s",
			ErrNoVectors, s.gen.Name, s.gen.Vectors, s.opts.Vectors)
	}
	allow, err := s.compileFilter(ctx, r, q.Filter)
	if err != nil {
		return nil, err
	}
	allowID, err := idFilter(r, allow)
	if err != nil {
		return nil, err
	}
	found, err := s.vecs.search(q.Vector, q.Limit, allowID)
	if err != nil {
		return nil, err
	}
	hits := make([]indexer.Hit, len(found))
	for i, h := range found {
		hits[i] = indexer.Hit{ID: h.id, Score: h.score, Passage: h.ordinal}
	}
	return hits, ctx.Err()
}

// idFilter turns a set of internal document numbers into a set of document
// IDs, which is how the vector index knows documents.
func idFilter(r index.IndexReader, set docSet) (*docFilter, error) {
	if set.nums == nil {
		return nil, nil
	}
	ids := make(map[string]struct{}, len(set.nums))
	buf := make(index.IndexInternalID, 8)
	for num := range set.nums {
		buf.SetValue(num)
		id, err := r.ExternalID(buf)
		if err != nil {
			return nil, fmt.Errorf("resolve filtered document: %w", err)
		}
		ids[id] = struct{}{}
	}
	return &docFilter{ids: ids, exclude: set.exclude}, nil
}
