package catalog

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/cari-search/cari/store"
)

// Limits are a collection's bounds; zero means unbounded (beyond the
// server's own limits).
type Limits struct {
	// MaxDocuments is the most documents the collection may hold. A write
	// that would take it past the bound is refused whole (ErrLimit); the
	// documents it replaces do not count, as they add none.
	MaxDocuments int64 `json:"max_documents,omitempty"`
}

// ErrLimit is returned for a write that a collection's Limits refuse.
var ErrLimit = errors.New("collection limit reached")

// CheckDocuments refuses a write that would take a collection holding have
// documents past its MaxDocuments by adding adding.
func (l Limits) CheckDocuments(collection string, have, adding int64) error {
	if l.MaxDocuments > 0 && have+adding > l.MaxDocuments {
		return fmt.Errorf("collection %s holds %d documents and takes at most %d (limits.max_documents): %d more do not fit: %w", collection, have, l.MaxDocuments, adding, ErrLimit)
	}
	return nil
}

// Bounded returns st, the store of collection name, with its Limits
// enforced on every Upsert; the limits are read from the catalog at each
// write, so an UpdateCollection applies to the next. A batch is checked
// and written under one lock, so two writers through the same Bounded
// store cannot together pass the bound; writers in other processes (the
// replicas of a shared Qdrant store) are not counted until they have
// written.
//
// What st can do beyond store.Store and Bounded needs to reach stays
// reachable: a store that lists its documents (both stores do; GetStats'
// example queries and a reindex read them) still does behind the bound.
func (c *Catalog) Bounded(st store.Store, name string) store.Store {
	b := &boundedStore{Store: st, cat: c, name: name}
	if l, ok := st.(documentLister); ok {
		return &boundedLister{boundedStore: b, documentLister: l}
	}
	return b
}

// documentLister is what indexer/reindex's Stored asks beyond store.Store;
// named here because the store layer does not import the indexer.
type documentLister interface {
	DocumentIDs(ctx context.Context) ([]string, error)
}

// boundedLister is a boundedStore whose store lists its documents.
type boundedLister struct {
	*boundedStore
	documentLister
}

type boundedStore struct {
	store.Store
	cat  *Catalog
	name string
	mu   sync.Mutex // held from the check to the end of the write
}

// Upsert writes entries unless the documents they add would take the
// collection past MaxDocuments; then it writes none of them.
func (s *boundedStore) Upsert(ctx context.Context, entries []store.Entry) error {
	col, err := s.cat.Resolve(s.name)
	if err != nil || col.Settings.Limits.MaxDocuments <= 0 {
		return s.Store.Upsert(ctx, entries)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	adding, err := s.added(ctx, entries)
	if err != nil {
		return err
	}
	if adding > 0 {
		st, err := s.Store.Stats(ctx)
		if err != nil {
			return fmt.Errorf("collection %s: count documents for limits.max_documents: %w", s.name, err)
		}
		if err := col.Settings.Limits.CheckDocuments(s.name, st.Documents, adding); err != nil {
			return err
		}
	}
	return s.Store.Upsert(ctx, entries)
}

// added counts the documents of entries the store does not hold yet.
func (s *boundedStore) added(ctx context.Context, entries []store.Entry) (int64, error) {
	ids := make([]string, 0, len(entries))
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !seen[e.Doc.ID] {
			seen[e.Doc.ID] = true
			ids = append(ids, e.Doc.ID)
		}
	}
	stored, err := s.Store.Fingerprints(ctx, ids)
	if err != nil {
		return 0, fmt.Errorf("collection %s: look up stored documents: %w", s.name, err)
	}
	// A document written before the store kept fingerprints has none:
	// ask for the documents themselves before counting it as new.
	var unknown []string
	for _, id := range ids {
		if _, ok := stored[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) == 0 {
		return 0, nil
	}
	docs, err := s.Store.Documents(ctx, unknown)
	if err != nil {
		return 0, fmt.Errorf("collection %s: look up stored documents: %w", s.name, err)
	}
	return int64(len(unknown) - len(docs)), nil
}
