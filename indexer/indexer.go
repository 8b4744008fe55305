// Package indexer turns documents into index entries: it validates, detects
// languages and categories, chunks into passages (analysis.Chunker), embeds and batches
// documents, and writes them through the narrow Writer it defines to any
// store (store/local, store/qdrant). What a store must answer is the
// contract package store.
package indexer

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/analysis/category"
	"github.com/cari-search/cari/store"
)

// Writer is what the indexer needs from a store.
type Writer interface {
	// Upsert stores the entries, replacing documents with the same ID,
	// atomically: after a crash either all of them are there or none. It
	// must not keep entries after returning: the caller reuses the slice.
	Upsert(ctx context.Context, entries []store.Entry) error
}

// FingerprintReader is a Writer that says what it holds already: the
// store.Fingerprint each stored document was written with (store.Store
// has it). The indexer asks before embedding and leaves out the documents
// stored unchanged, so re-importing a corpus costs no embedding and writes
// nothing.
type FingerprintReader interface {
	Fingerprints(ctx context.Context, ids []string) (map[string]string, error)
}

// DocumentEmbedder turns passages into vectors, one per text, in order.
type DocumentEmbedder interface {
	EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error)
}

// DefaultBatchSize is how many documents go to the store in one atomic
// write unless Options says.
const DefaultBatchSize = 512

// Options configure an Indexer. The zero value is usable.
type Options struct {
	// BatchSize is how many documents go to the store in one atomic write.
	// Default DefaultBatchSize.
	BatchSize int
	// Now returns the crawl time stamped on documents that have none.
	// Default time.Now.
	Now func() time.Time
	// Chunk shapes passages.
	Chunk analysis.ChunkOptions
	// Embedder, when set, embeds every passage (with its document's title)
	// before the batch is written; nil writes a keyword-only index.
	Embedder DocumentEmbedder
	// Language (a BCP 47 tag) is given to the documents that name none,
	// which then skip language detection: a collection's setting. "":
	// detect each one's.
	Language string
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
	chunker *analysis.Chunker
	langs   *analysis.Detector
	pending []cari.Document
	written int
	// unchanged counts the documents left out because the store holds
	// them already with the same fingerprint.
	unchanged int

	// The batch being written in the background (Options.Pipelined): its
	// result arrives on writing, and it holds writingDocs documents.
	writing     chan error
	writingDocs int
	// writingIDs are that batch's documents: their stored fingerprints
	// are about to change, so the next batch does not trust them.
	writingIDs map[string]bool
}

// New returns an Indexer writing to w.
func New(w Writer, opts Options) (*Indexer, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c, err := analysis.NewChunker(opts.Chunk)
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
	if doc.Category != "" {
		c, ok := category.Parse(doc.Category)
		if !ok {
			return &cari.FieldError{Field: "category", Reason: fmt.Sprintf("must be one of %s, got %q", strings.Join(category.All, ", "), doc.Category)}
		}
		doc.Category = c
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
	ix.writingIDs = make(map[string]bool, len(entries))
	for _, e := range entries {
		ix.writingIDs[e.Doc.ID] = true
	}
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
	ix.writing, ix.writingDocs, ix.writingIDs = nil, 0, nil
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

// Written returns how many documents have been stored by this Indexer,
// those found stored unchanged included.
func (ix *Indexer) Written() int { return ix.written }

// Unchanged returns how many of the documents added were found stored
// with the same fingerprint, and so were neither embedded nor written.
func (ix *Indexer) Unchanged() int { return ix.unchanged }

// entries chunks docs and, with an embedder, embeds every passage in one
// call (the embedder batches and parallelises as its model allows).
func (ix *Indexer) entries(ctx context.Context, docs []cari.Document) ([]store.Entry, error) {
	entries := make([]store.Entry, len(docs))
	// Sentence splitting is the costly part of chunking; spread it over the
	// cores.
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(docs); i += workers {
				d := docs[i]
				// A document that names no language gets Options.Language,
				// else the detected one when detection is sure (it is
				// stored and filtered on).
				if d.Language == "" && ix.opts.Language != "" {
					d.Language = ix.opts.Language
				} else if d.Language == "" {
					if det := ix.langs.DetectDocument(d.Title, d.Text); det.Sure {
						d.Language = det.Language
					}
				}
				// The category is stored so that the category filter is
				// exact over the whole index (see analysis/category).
				if d.Category == "" {
					d.Category = category.Of(d)
				}
				entries[i] = store.Entry{Doc: d, Chunks: ix.chunker.Chunk(d.Text)}
			}
		})
	}
	wg.Wait()
	entries, err := ix.changed(ctx, entries)
	if err != nil {
		return nil, err
	}
	var texts []string
	if ix.opts.Embedder != nil {
		for _, e := range entries {
			for _, c := range e.Chunks {
				texts = append(texts, cari.PassageText(e.Doc, c))
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

// changed leaves out the entries whose documents the store holds with the
// same fingerprint, unless the batch being written in the background is
// about to replace them, when the writer can say.
func (ix *Indexer) changed(ctx context.Context, entries []store.Entry) ([]store.Entry, error) {
	fr, ok := ix.w.(FingerprintReader)
	if !ok {
		return entries, nil
	}
	// A later document of the batch replaces an earlier one with its ID,
	// so it alone is compared with what is stored.
	entries = store.LastByID(entries)
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.Doc.ID
	}
	stored, err := fr.Fingerprints(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("look up stored documents: %w", err)
	}
	out := entries[:0]
	for _, e := range entries {
		if fp, ok := stored[e.Doc.ID]; ok && !ix.writingIDs[e.Doc.ID] && fp == store.Fingerprint(e) {
			ix.unchanged++
			continue
		}
		out = append(out, e)
	}
	return out, nil
}
