package local

import (
	"fmt"

	"github.com/cari-search/cari/store/local/hnsw"
)

// vectorIndex is what the store needs of an index of passage vectors: the
// graph (*hnsw.Index), or in benchmarks the exact *hnsw.Flat. An
// implementation is safe for concurrent searches and one writer.
type vectorIndex interface {
	// Put replaces the passages of document id.
	Put(id string, vecs [][]float32) error
	Delete(id string)
	// Search returns the limit documents whose best passage is most
	// similar to q, each with that passage, best first, among the
	// documents f allows.
	Search(q []float32, limit int, f *hnsw.Filter) ([]hnsw.Hit, error)
}

const (
	// DefaultEfSearch is the vector search candidate list length a store
	// uses unless Options.EfSearch says otherwise.
	DefaultEfSearch = hnsw.DefaultEfSearch
	// MaxEfSearch bounds Options.EfSearch.
	MaxEfSearch = hnsw.MaxEfSearch
)

// CheckEfSearch checks an Options.EfSearch value (0 takes the default); the
// error completes a sentence naming the option.
func CheckEfSearch(ef int) error {
	if ef < 0 || ef > MaxEfSearch {
		return fmt.Errorf("must be between 1 and %d (0 takes the default, %d), got %d", MaxEfSearch, DefaultEfSearch, ef)
	}
	return nil
}
