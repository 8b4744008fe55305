package reindex

import (
	"context"
	"fmt"
	"io"

	"github.com/cari-search/cari"
)

// Stored is a store whose documents a job can rebuild from (the local
// store, or Qdrant's).
type Stored interface {
	// DocumentIDs lists the serving generation's documents.
	DocumentIDs(ctx context.Context) ([]string, error)
	// Documents loads stored documents; missing IDs are absent.
	Documents(ctx context.Context, ids []string) (map[string]cari.Document, error)
}

// storedSource reads the serving generation's own documents, in ID order,
// to re-chunk, re-embed and re-analyse them.
type storedSource struct {
	ctx  context.Context
	s    Stored
	name string
	ids  []string
	next int
}

// OpenStored opens the documents of s's serving generation, named
// generation, as a source. The list of IDs is taken now; a document
// deleted before the job reaches it is skipped. A local store may be one
// opened with local.Options.Rebuild, whose serving generation was built
// with another analyzer or model.
func OpenStored(ctx context.Context, s Stored, generation string) (Source, error) {
	ids, err := s.DocumentIDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list stored documents: %w", err)
	}
	return &storedSource{ctx: ctx, s: s, name: generation, ids: ids}, nil
}

// Describe names the generation read: a job resumes only the rebuild of
// the same one.
func (s *storedSource) Describe() string { return "stored:" + s.name }
func (s *storedSource) Total() int64     { return int64(len(s.ids)) }
func (s *storedSource) Close() error     { return nil }

func (s *storedSource) Next() (Item, error) {
	if s.next == len(s.ids) {
		return Item{}, io.EOF
	}
	id := s.ids[s.next]
	s.next++
	return Item{Where: fmt.Sprintf("stored document %q", id), Document: func() (cari.Document, error) {
		docs, err := s.s.Documents(s.ctx, []string{id})
		if err != nil {
			return cari.Document{}, &RecordError{Reason: "read", Err: err}
		}
		d, ok := docs[id]
		if !ok {
			return cari.Document{}, fmt.Errorf("%w: document %q was deleted", ErrSkip, id)
		}
		d.Chunks = nil
		return d, nil
	}}, nil
}
