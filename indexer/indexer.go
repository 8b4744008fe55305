// Package indexer turns documents into index entries: it validates and batches
// documents and writes them to a store (the local store in indexer/local, or
// a cluster store). It also defines what a store must answer, so that the
// searcher can run on any store.
package indexer

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer/analysis"
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
}

// IsZero reports whether the filter matches every document.
func (f Filter) IsZero() bool {
	return len(f.IncludeDomains) == 0 && len(f.ExcludeDomains) == 0 &&
		f.PublishedFrom.IsZero() && f.PublishedTo.IsZero() &&
		f.CrawledFrom.IsZero() && f.CrawledTo.IsZero() &&
		len(f.IncludeText) == 0 && len(f.ExcludeText) == 0 && len(f.Languages) == 0
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
	Generation string
	Documents  int64
	// Chunks is the number of passages (the units embedded and retrieved on
	// the vector side).
	Chunks int64
	// AvgDocTokens is the average analyzed length of a document.
	AvgDocTokens float64
	// DiskBytes is the size of the generation's files.
	DiskBytes int64
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

// WindowSpans are the window lengths, in token positions, of
// MatchFeatures.WindowCoverage.
var WindowSpans = [3]int{12, 24, 48}

// Writer is what the indexer needs from a store.
type Writer interface {
	// Upsert stores the entries, replacing documents with the same ID,
	// atomically: after a crash either all of them are there or none. It
	// must not keep entries after returning: the caller reuses the slice.
	Upsert(ctx context.Context, entries []Entry) error
}

// DocumentEmbedder turns passages into vectors, one per text, in order.
type DocumentEmbedder interface {
	EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error)
}

// Options configure an Indexer. The zero value is usable.
type Options struct {
	// BatchSize is how many documents go to the store in one atomic write.
	// Default 512.
	BatchSize int
	// Now returns the crawl time stamped on documents that have none.
	// Default time.Now.
	Now func() time.Time
	// Chunk shapes passages.
	Chunk ChunkOptions
	// Embedder, when set, embeds every passage (with its document's title)
	// before the batch is written; nil writes a keyword-only index.
	Embedder DocumentEmbedder
	// Pipelined lets Add return once a full batch is prepared (languages
	// detected, chunked, embedded) and handed to the writer, so that the
	// next batch is prepared while this one is written: a bulk load keeps
	// every core busy while the store inserts serially. A failed write is
	// returned by the next Add or Flush; Written counts only batches the
	// store acknowledged, and Flush still returns once all are stored.
	Pipelined bool
}

// Indexer validates documents and writes them to a store in batches. It is
// not safe for concurrent use.
type Indexer struct {
	w       Writer
	opts    Options
	chunker *Chunker
	langs   *analysis.Detector
	pending []cari.Document
	written int

	// The batch being written in the background (Options.Pipelined): its
	// result arrives on writing, and it holds writingDocs documents.
	writing     chan error
	writingDocs int
}

// New returns an Indexer writing to w.
func New(w Writer, opts Options) (*Indexer, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 512
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c, err := NewChunker(opts.Chunk)
	if err != nil {
		return nil, fmt.Errorf("sentence model: %w", err)
	}
	return &Indexer{w: w, opts: opts, chunker: c, langs: analysis.NewDetector()}, nil
}

// Add validates doc and queues it, writing a batch when one is full. A
// *cari.FieldError means doc was rejected and nothing else changed.
func (ix *Indexer) Add(ctx context.Context, doc cari.Document) error {
	if err := doc.Normalize(); err != nil {
		return err
	}
	if doc.Crawled.IsZero() {
		doc.Crawled = ix.opts.Now().UTC()
	}
	ix.pending = append(ix.pending, doc)
	if len(ix.pending) < ix.opts.BatchSize {
		return nil
	}
	if ix.opts.Pipelined {
		return ix.handOff(ctx)
	}
	return ix.Flush(ctx)
}

// handOff prepares the queued documents, waits for the batch before them to
// be written, and starts writing them in the background.
func (ix *Indexer) handOff(ctx context.Context) error {
	entries, err := ix.entries(ctx, ix.pending)
	if err != nil {
		return errors.Join(err, ix.Wait())
	}
	if err := ix.Wait(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- ix.w.Upsert(ctx, entries) }()
	ix.writing, ix.writingDocs = done, len(ix.pending)
	// The entries hold copies of the documents, so the queue can be reused.
	ix.pending = ix.pending[:0]
	return nil
}

// Wait waits for the batch being written in the background, if any, and
// returns its error. A caller that gives up on a pipelined Indexer before
// Flush calls it before closing the store.
func (ix *Indexer) Wait() error {
	if ix.writing == nil {
		return nil
	}
	err := <-ix.writing
	n := ix.writingDocs
	ix.writing, ix.writingDocs = nil, 0
	if err != nil {
		return fmt.Errorf("write batch of %d documents: %w", n, err)
	}
	ix.written += n
	return nil
}

// Flush writes the queued documents. When it returns nil, every document
// added so far is stored.
func (ix *Indexer) Flush(ctx context.Context) error {
	if err := ix.Wait(); err != nil {
		return err
	}
	if len(ix.pending) == 0 {
		return nil
	}
	entries, err := ix.entries(ctx, ix.pending)
	if err != nil {
		return err
	}
	if err := ix.w.Upsert(ctx, entries); err != nil {
		return fmt.Errorf("write batch of %d documents: %w", len(ix.pending), err)
	}
	ix.written += len(ix.pending)
	ix.pending = ix.pending[:0]
	return nil
}

// Pending returns how many added documents are not yet stored: queued for
// the next Flush, or being written in the background.
func (ix *Indexer) Pending() int { return len(ix.pending) + ix.writingDocs }

// Written returns how many documents have been stored by this Indexer.
func (ix *Indexer) Written() int { return ix.written }

// entries chunks docs and, with an embedder, embeds every passage in one
// call (the embedder batches and parallelises as its model allows).
func (ix *Indexer) entries(ctx context.Context, docs []cari.Document) ([]Entry, error) {
	entries := make([]Entry, len(docs))
	// Sentence splitting is the costly part of chunking; spread it over the
	// cores.
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(docs); i += workers {
				d := docs[i]
				// A document that names no language gets the detected one
				// when detection is sure (it is stored and filtered on).
				if d.Language == "" {
					if det := ix.langs.DetectDocument(d.Title, d.Text); det.Sure {
						d.Language = det.Language
					}
				}
				entries[i] = Entry{Doc: d, Chunks: ix.chunker.Chunk(d.Text)}
			}
		})
	}
	wg.Wait()
	var texts []string
	if ix.opts.Embedder != nil {
		for _, e := range entries {
			for _, c := range e.Chunks {
				texts = append(texts, PassageText(e.Doc, c))
			}
		}
	}
	if ix.opts.Embedder == nil {
		return entries, nil
	}
	vecs, err := ix.opts.Embedder.EmbedDocuments(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("embed %d passages: %w", len(texts), err)
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("embedder returned %d vectors for %d passages", len(vecs), len(texts))
	}
	for i := range entries {
		n := len(entries[i].Chunks)
		entries[i].Vectors, vecs = vecs[:n:n], vecs[n:]
	}
	return entries, nil
}

// PassageText is what gets embedded for a passage: the document's title
// carried with the passage text, so a passage that never names its subject
// still matches queries about it.
func PassageText(d cari.Document, c cari.Chunk) string {
	body := d.Text[c.Start:c.End]
	switch {
	case d.Title == "":
		return body
	case body == "":
		return d.Title
	}
	return d.Title + "\n" + body
}
