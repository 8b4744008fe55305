package indexer

import (
	"context"

	"github.com/cari-search/cari"
)

// Store is the whole contract of an index store: what the indexer writes
// through, what the searcher and the index service read. The local store
// (indexer/local) and the Qdrant store (indexer/qdrant) implement it, and
// indexer/storetest checks both against the same suite.
type Store interface {
	Writer
	// Delete removes documents by ID and returns the IDs that were not
	// stored.
	Delete(ctx context.Context, ids []string) (notFound []string, err error)
	// SearchKeyword returns the best BM25 matches that pass the filter,
	// best first.
	SearchKeyword(ctx context.Context, q KeywordQuery) ([]Hit, error)
	// SearchVector returns the documents whose best passage lies nearest
	// the query vector among those that pass the filter, best first.
	SearchVector(ctx context.Context, q VectorQuery) ([]Hit, error)
	// Documents loads stored documents; missing IDs are absent from the map.
	Documents(ctx context.Context, ids []string) (map[string]cari.Document, error)
	// IDsForURLs maps stored documents' URLs to their IDs; URLs not stored
	// are absent from the map.
	IDsForURLs(ctx context.Context, urls []string) (map[string]string, error)
	// Terms analyzes text as the keyword index analyzes a query.
	Terms(text string) []string
	// TermsIn analyzes text as the keyword index analyzes a document in
	// language (a BCP 47 tag, "" for unknown).
	TermsIn(text, language string) []string
	// MatchFeatures describes how each document matches the query's terms.
	MatchFeatures(ctx context.Context, query string, ids []string) (map[string]MatchFeatures, error)
	// Stats describe the serving generation.
	Stats(ctx context.Context) (Stats, error)
	// Close releases the store; later calls fail.
	Close() error
}
