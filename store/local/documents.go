package local

import (
	"context"
	"fmt"
	"slices"
	"time"

	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis/category"
)

// Documents loads the stored documents with the given IDs from one snapshot.
// IDs that are not stored are absent from the map.
func (s *Store) Documents(ctx context.Context, ids []string) (map[string]cari.Document, error) {
	r, g, release, err := s.snapshotGen(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	out := make(map[string]cari.Document, len(ids))
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if _, done := out[id]; done {
			continue
		}
		d, found, err := loadDocument(r, id)
		if err != nil {
			return nil, fmt.Errorf("load document %q: %w", id, err)
		}
		if found {
			g.categorize(&d)
			out[id] = d
		}
	}
	return out, nil
}

// categorize gives d, read from g, its category when g was made before
// categories were stored: decided on read as the indexer would have (a
// few microseconds), so results report one either way.
func (g *generation) categorize(d *cari.Document) {
	if !g.categories {
		d.Category = category.Of(*d)
	}
}

func loadDocument(r index.IndexReader, id string) (cari.Document, bool, error) {
	d, _, found, err := loadStored(r, id)
	return d, found, err
}

// loadStored reads document id's stored fields from snapshot r: the
// document, and the body field its text is analysed in.
func loadStored(r index.IndexReader, id string) (d cari.Document, bodyField string, found bool, err error) {
	stored, err := r.Document(id)
	if err != nil || stored == nil {
		return cari.Document{}, "", false, err
	}
	d = cari.Document{ID: id}
	var ferr error
	stored.VisitFields(func(f index.Field) {
		switch f.Name() {
		case fieldBodyField:
			bodyField = string(f.Value())
		case fieldTitle:
			d.Title = string(f.Value())
		case fieldText:
			d.Text = string(f.Value())
		case fieldURL:
			d.URL = string(f.Value())
		case fieldAuthor:
			d.Author = string(f.Value())
		case fieldLanguage:
			d.Language = string(f.Value())
		case fieldDomain:
			d.Domain = string(f.Value())
		case fieldCategory:
			d.Category = string(f.Value())
		case fieldHash:
			d.ContentHash = string(f.Value())
		case fieldChunks:
			var cerr error
			if d.Chunks, cerr = decodeChunks(string(f.Value())); cerr != nil && ferr == nil {
				ferr = cerr
			}
		case fieldPublishedAt:
			d.Published, ferr = storedTime(f, ferr)
		case fieldCrawledAt:
			d.Crawled, ferr = storedTime(f, ferr)
		}
	})
	return d, bodyField, true, ferr
}

func storedTime(f index.Field, prev error) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, string(f.Value()))
	if err != nil && prev == nil {
		prev = fmt.Errorf("field %s: %w", f.Name(), err)
	}
	return t.UTC(), prev
}

// IDsForURLs returns the IDs of the stored documents with the given URLs,
// keyed by URL; URLs not stored are absent. When several documents share a
// URL (corpus records may), the smallest ID is returned.
func (s *Store) IDsForURLs(ctx context.Context, urls []string) (map[string]string, error) {
	r, release, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	out := make(map[string]string, len(urls))
	for _, u := range urls {
		nums, err := s.matchAll(ctx, r, termsQuery(fieldURL, []string{u}, nil))
		if err != nil {
			return nil, fmt.Errorf("look up url %q: %w", u, err)
		}
		for num := range nums {
			id, err := r.ExternalID(index.NewIndexInternalID(nil, num))
			if err != nil {
				return nil, fmt.Errorf("look up url %q: %w", u, err)
			}
			if prev, ok := out[u]; !ok || id < prev {
				out[u] = id
			}
		}
	}
	return out, nil
}

// DocumentIDs returns the IDs of every document of the serving generation,
// sorted.
func (s *Store) DocumentIDs(ctx context.Context) ([]string, error) {
	r, release, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	var ids []string
	err = eachDocumentID(ctx, r, func(id string) error {
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return ids, nil
}

// eachDocumentID calls fn with the ID of every document of snapshot r, in
// index order, until fn returns an error or ctx ends.
func eachDocumentID(ctx context.Context, r index.IndexReader, fn func(id string) error) error {
	all, err := r.DocIDReaderAll()
	if err != nil {
		return err
	}
	defer all.Close()
	for i := 0; ; i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		iid, err := all.Next()
		if err != nil || iid == nil {
			return err
		}
		id, err := r.ExternalID(iid)
		if err != nil {
			return err
		}
		if err := fn(id); err != nil {
			return err
		}
	}
}

// Fingerprints returns the store.Fingerprint each stored document was
// written with, from one snapshot; IDs not stored, or stored before
// fingerprints were kept, are absent from the map.
func (s *Store) Fingerprints(ctx context.Context, ids []string) (map[string]string, error) {
	r, release, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	out := make(map[string]string, len(ids))
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		share, found, err := storedShare(r, id)
		if err != nil {
			return nil, fmt.Errorf("look up document %q: %w", id, err)
		}
		if found && share.fingerprint != "" {
			out[id] = share.fingerprint
		}
	}
	return out, nil
}
