package local

import (
	"context"
	"errors"
	"fmt"

	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local/hnsw"

	index "github.com/blevesearch/bleve_index_api"
)

// ErrNoVectors is returned by SearchVector when the store holds no vectors
// this process can compare with: a keyword-only generation, or a process
// started without the generation's embedding model.
var ErrNoVectors = errors.New("no vectors to search")

// SearchVector returns the documents whose best passage is most similar to
// q.Vector, best first, among those that pass q.Filter.
func (s *Store) SearchVector(ctx context.Context, q store.VectorQuery) ([]store.Hit, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	r, g, release, err := s.snapshotGen(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if g.vecs == nil {
		return nil, fmt.Errorf("%w: generation %s has vectors of %s, and this process embeds with %s",
			ErrNoVectors, g.m.Name, g.m.Vectors, s.opts.Vectors)
	}
	if q.Model != "" && q.Model != g.m.Vectors.Model {
		return nil, fmt.Errorf("%w: the query was embedded with %s, and generation %s holds vectors of %s; vectors of different models are not comparable",
			store.ErrModelMismatch, q.Model, g.m.Name, g.m.Vectors)
	}
	if len(q.Vector) != g.m.Vectors.Dim {
		return nil, fmt.Errorf("%w: the query vector has %d dimensions, and generation %s holds vectors of %s",
			store.ErrModelMismatch, len(q.Vector), g.m.Name, g.m.Vectors)
	}
	if err := g.checkCategories(q.Filter); err != nil {
		return nil, err
	}
	allow, err := s.compileFilter(ctx, r, q.Filter)
	if err != nil {
		return nil, err
	}
	allowID, err := idFilter(r, allow)
	if err != nil {
		return nil, err
	}
	found, err := g.vecs.Search(q.Vector, q.Limit, allowID)
	if err != nil {
		return nil, err
	}
	hits := make([]store.Hit, len(found))
	for i, h := range found {
		hits[i] = store.Hit{ID: h.ID, Score: h.Score, Passage: h.Passage}
	}
	return hits, ctx.Err()
}

// idFilter turns a set of internal document numbers into a set of document
// IDs, which is how the vector index knows documents.
func idFilter(r index.IndexReader, set docSet) (*hnsw.Filter, error) {
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
	return &hnsw.Filter{IDs: ids, Exclude: set.exclude}, nil
}
