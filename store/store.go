// Package store is the contract between the stages that write an index and
// those that read it: the Store both stores implement (store/local, the
// embedded one; store/qdrant, a Qdrant cluster), what goes in (Entry) and
// what comes out (Hit, MatchFeatures, Stats), and the queries and filters a
// search asks with. It also holds what both stores must compute alike so
// that one query ranks the same on either: the body fields and their
// analysis (Analysis), the BM25 formula, the filter keys and the match
// features. store/storetest checks every store against it.
// Consumers define the narrow interfaces they use (searcher.Store,
// indexer.Writer); this one is the union a store must answer.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cari-search/cari"
)

// Filter restricts a search to documents with the given properties. The zero
// value matches every document. Stores apply it inside retrieval, so that a
// filtered search still fills its result list when enough documents match.
type Filter struct {
	// IncludeDomains, when not empty, keeps only documents on these domains
	// or their subdomains (compared after cari.NormalizeDomain).
	IncludeDomains []string
	// ExcludeDomains drops documents on these domains.
	ExcludeDomains []string
	// PublishedFrom and PublishedTo bound the published time, both inclusive;
	// a zero time leaves that side open. Documents with no published time
	// never match a published range.
	PublishedFrom, PublishedTo time.Time
	// CrawledFrom and CrawledTo bound the crawl time, both inclusive.
	CrawledFrom, CrawledTo time.Time
	// IncludeText lists phrases that must all appear in the title or text.
	IncludeText []string
	// ExcludeText lists phrases none of which may appear.
	ExcludeText []string
	// Languages, when not empty, keeps only documents in one of these
	// languages; a BCP 47 tag matches its more specific tags ("en" matches
	// "en-GB").
	Languages []string
	// Categories, when not empty, keeps only documents of one of these
	// categories (analysis/category's names), as stored at indexing. A
	// store whose documents were written before categories were stored
	// refuses it with ErrNoCategories rather than find nothing.
	Categories []string
}

// IsZero reports whether the filter matches every document.
func (f Filter) IsZero() bool {
	return len(f.IncludeDomains) == 0 && len(f.ExcludeDomains) == 0 &&
		f.PublishedFrom.IsZero() && f.PublishedTo.IsZero() &&
		f.CrawledFrom.IsZero() && f.CrawledTo.IsZero() &&
		len(f.IncludeText) == 0 && len(f.ExcludeText) == 0 && len(f.Languages) == 0 &&
		len(f.Categories) == 0
}

// KeywordQuery is a full-text query for a store's keyword index.
type KeywordQuery struct {
	// Text is analyzed with the index's analyzer; its terms are OR-ed.
	Text string
	// Filter restricts the documents that can match.
	Filter Filter
	// Limit is the number of hits wanted.
	Limit int
}

// VectorQuery asks a store for the documents whose passages lie nearest a
// query vector (cosine similarity).
type VectorQuery struct {
	Vector []float32
	Filter Filter
	Limit  int
	// Model is the ID of the embedding model that made Vector; a store
	// refuses a query from another model than its vectors'. Empty skips
	// the check (the dimension is still checked).
	Model string
}

// ErrNoCategories is returned by a store asked to filter by category when
// its documents were written before stores kept categories (a local
// generation or Qdrant collection made by an older Cari): a filter there
// would find nothing. Reindexing (cari reindex --stored) stores them.
var ErrNoCategories = errors.New("this index was built before categories were stored; reindex it (cari reindex --stored) to filter by category")

// ErrModelMismatch is returned by a store for a query vector made by
// another embedding model than the one its vectors come from: the two are
// not comparable, so the search is refused rather than answered wrongly.
var ErrModelMismatch = errors.New("query embedded with another model than the index")

// ErrBuildRunning is returned by a store asked to begin building a new
// generation while it builds another.
var ErrBuildRunning = errors.New("a reindex is already building a generation")

// Hit is one document a store found, with its score under the store's model.
type Hit struct {
	ID    string
	Score float64
	// Passage is the ordinal of the document's best passage on the vector
	// side; 0 on the keyword side, which scores whole documents.
	Passage int
}

// Stats describe the generation of an index that serves searches.
type Stats struct {
	Generation string `json:"generation"`
	Documents  int64  `json:"documents"`
	// Chunks is the number of passages (the units embedded and retrieved on
	// the vector side).
	Chunks int64 `json:"chunks"`
	// AvgDocTokens is the average analyzed length of a document.
	AvgDocTokens float64 `json:"avg_doc_tokens"`
	// DiskBytes is the size of the generation's files.
	DiskBytes int64 `json:"disk_bytes"`
	// LastWrite is when a write (an upsert that changed a document, or a
	// delete) last committed to the generation, in UTC: when what searches
	// see last changed. Zero where the store does not record it (Qdrant,
	// or a local generation no write has reached since Cari began to).
	LastWrite time.Time `json:"last_write,omitzero"`
}

// WriteText writes the stats as cari stats prints them, a line a figure.
func (s Stats) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "generation  %s\ndocuments   %d\nchunks      %d\ndisk        %.1f MiB\n",
		s.Generation, s.Documents, s.Chunks, float64(s.DiskBytes)/(1<<20))
	if err == nil && !s.LastWrite.IsZero() {
		_, err = fmt.Fprintf(w, "last write  %s\n", s.LastWrite.UTC().Format(time.RFC3339))
	}
	return err
}

// Entry is what a store writes for one document: the document, its
// passages, and, when the index has an embedding model, one vector per
// passage.
type Entry struct {
	Doc    cari.Document
	Chunks []cari.Chunk
	// Vectors is nil for a keyword-only index, else len(Chunks) vectors.
	Vectors [][]float32
}

// LastByID returns entries with one entry per document ID, the last one
// given for it, at the place the ID first appears: a store's Upsert writes
// a batch in which a later document replaces an earlier one.
func LastByID(entries []Entry) []Entry {
	pos := make(map[string]int, len(entries))
	out := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if i, ok := pos[e.Doc.ID]; ok {
			out[i] = e
			continue
		}
		pos[e.Doc.ID] = len(out)
		out = append(out, e)
	}
	return out
}

// MatchFeatures describe how one document matches a query's terms, beyond
// its BM25 score: the signals a learned re-ranker combines. Term weights are
// IDFs, so rare terms count more.
type MatchFeatures struct {
	// BM25 is the document's keyword score.
	BM25 float64
	// Coverage is the IDF-weighted share of the query's distinct terms that
	// occur in the document (0 to 1).
	Coverage float64
	// TitleCoverage is the same share counted in the title alone.
	TitleCoverage float64
	// Proximity is the number of distinct matched terms divided by the
	// length, in tokens, of the shortest window holding all of them (1 when
	// they are adjacent; 0 when nothing matches).
	Proximity float64
	// FirstMatch is the position of the first matching token divided by the
	// document's length (0 at the start; 1 when nothing matches).
	FirstMatch float64
	// Length is the document's analyzed length in tokens.
	Length float64
	// OrderedPairs is the IDF-weighted share of the query's adjacent term
	// pairs that occur in the document in order, at most two positions
	// apart (a stop word may sit between them): the sequential dependence
	// model's ordered window.
	OrderedPairs float64
	// UnorderedPairs is the same share for pairs within eight positions of
	// each other in either order.
	UnorderedPairs float64
	// TitleBM25 is the BM25 score of the title alone, its length taken
	// relative to the mean title length of the documents asked about.
	TitleBM25 float64
	// MissingIDF is the IDF of the rarest query term the document lacks,
	// as a share of the rarest query term's IDF (0 when none is missing).
	MissingIDF float64
	// WindowCoverage is the largest IDF-weighted share of the query's terms
	// found together within WindowSpans[i] consecutive positions: the
	// best passage at three sizes around a sentence's.
	WindowCoverage [3]float64
}

// MatchedDocument is a stored document and how it matches a query: what a
// re-ranker reads of a candidate.
type MatchedDocument struct {
	Document cari.Document
	Match    MatchFeatures
}

// WindowSpans are the window lengths, in token positions, of
// MatchFeatures.WindowCoverage.
var WindowSpans = [3]int{12, 24, 48}

// Store is the whole contract of an index store: what the indexer writes
// through, what the searcher and the index service read. The local store
// (store/local) and the Qdrant store (store/qdrant) implement it, and
// store/storetest checks both against the same suite.
type Store interface {
	// Upsert stores the entries, replacing documents with the same ID,
	// atomically: after a crash either all of them are there or none. An
	// entry whose document is stored with the same Fingerprint is left as
	// it is. It must not keep entries after returning: the caller reuses
	// the slice.
	Upsert(ctx context.Context, entries []Entry) error
	// Delete removes documents by ID and returns the IDs that were not
	// stored.
	Delete(ctx context.Context, ids []string) (notFound []string, err error)
	// SearchKeyword returns the best BM25 matches that pass the filter,
	// best first.
	SearchKeyword(ctx context.Context, q KeywordQuery) ([]Hit, error)
	// SearchVector returns the documents whose best passage lies nearest
	// the query vector among those that pass the filter, best first.
	SearchVector(ctx context.Context, q VectorQuery) ([]Hit, error)
	// Fingerprints returns the Fingerprint each stored document was
	// written with; missing IDs, and documents a store wrote before it
	// kept fingerprints, are absent from the map. The indexer asks before
	// embedding, so an unchanged document costs no embedding and no write.
	Fingerprints(ctx context.Context, ids []string) (map[string]string, error)
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
	// MatchDocuments loads stored documents and describes how each matches
	// the query's terms, reading each document's stored fields once: a
	// re-ranker needs both. Missing IDs are absent from the map.
	MatchDocuments(ctx context.Context, query string, ids []string) (map[string]MatchedDocument, error)
	// Stats describe the serving generation.
	Stats(ctx context.Context) (Stats, error)
	// Generations lists the generations the store keeps, oldest first.
	Generations(ctx context.Context) ([]Generation, error)
	// Close releases the store; later calls fail.
	Close() error
}

// VectorSpace identifies the vectors of an index: the model that made them
// (provider, name and a fingerprint of its weights, in one string) and their
// dimension. Vectors from different spaces are not comparable. Both stores
// record the space of their vectors and refuse another's.
type VectorSpace struct {
	Model string `json:"model"`
	Dim   int    `json:"dim"`
}

// IsZero reports whether no embedding model is set.
func (v VectorSpace) IsZero() bool { return v.Model == "" }

func (v VectorSpace) String() string {
	if v.IsZero() {
		return "none (keyword only)"
	}
	return fmt.Sprintf("%s (%d dimensions)", v.Model, v.Dim)
}
