package qdrant

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis/category"
	"github.com/cari-search/cari/store"
)

// Documents loads the stored documents with the given IDs; IDs not stored
// are absent from the map.
func (s *Store) Documents(ctx context.Context, ids []string) (map[string]cari.Document, error) {
	pts, err := s.get(ctx, ids, documentPayload())
	if err != nil {
		return nil, err
	}
	out := make(map[string]cari.Document, len(pts))
	for _, p := range pts {
		d, err := document(p.GetPayload())
		if err != nil {
			return nil, fmt.Errorf("load document %q: %w", d.ID, err)
		}
		out[d.ID] = d
	}
	return out, nil
}

// documentPayload selects the payload a document is read from: all of it
// but the keys and terms only filters and the keyword side use.
func documentPayload() *qdrant.WithPayloadSelector {
	exclude := []string{fieldDomainKeys, fieldLanguageKeys}
	for _, f := range store.Fields() {
		exclude = append(exclude, termsField(f))
	}
	return qdrant.NewWithPayloadExclude(exclude...)
}

// get fetches the points of the documents ids, without vectors.
func (s *Store) get(ctx context.Context, ids []string, with *qdrant.WithPayloadSelector) ([]*qdrant.RetrievedPoint, error) {
	target := s.readTarget(ctx)
	client, err := s.conn()
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var pids []*qdrant.PointId
	for _, id := range distinct(ids) {
		pids = append(pids, pointID(id))
	}
	var pts []*qdrant.RetrievedPoint
	for batch := range slices.Chunk(pids, getBatch) {
		got, err := client.Get(ctx, &qdrant.GetPoints{CollectionName: target, Ids: batch, WithPayload: with, WithVectors: qdrant.NewWithVectors(false)})
		if err != nil {
			return nil, fmt.Errorf("get %d documents from %s: %w", len(batch), target, err)
		}
		pts = append(pts, got...)
	}
	return pts, nil
}

func document(p map[string]*qdrant.Value) (cari.Document, error) {
	str := func(k string) string { return p[k].GetStringValue() }
	d := cari.Document{
		ID: str(fieldID), URL: str(fieldURL), Title: str(fieldTitle), Text: str(fieldText),
		Author: str(fieldAuthor), Language: str(fieldLanguage), Domain: str(fieldDomain), ContentHash: str(fieldHash),
		Category: str(fieldCategory),
	}
	if _, ok := p[fieldCategory]; !ok {
		// Written before categories were stored: decided as the indexer
		// would have (a few microseconds), so results report one either way.
		d.Category = category.Of(d)
	}
	var err error
	for _, f := range []struct {
		field string
		t     *time.Time
	}{{fieldPublished, &d.Published}, {fieldCrawled, &d.Crawled}} {
		if v := str(f.field); v != "" {
			if *f.t, err = time.Parse(time.RFC3339Nano, v); err != nil {
				return d, fmt.Errorf("field %s: %w", f.field, err)
			}
		}
	}
	offsets := p[fieldChunks].GetListValue().GetValues()
	if len(offsets)%2 != 0 {
		return d, fmt.Errorf("field %s has %d offsets, want pairs", fieldChunks, len(offsets))
	}
	for i := 0; i < len(offsets); i += 2 {
		start, end := int(offsets[i].GetIntegerValue()), int(offsets[i+1].GetIntegerValue())
		if start < 0 || end < start || end > len(d.Text) {
			return d, fmt.Errorf("field %s: damaged passage offsets %d-%d in a text of %d bytes", fieldChunks, start, end, len(d.Text))
		}
		d.Chunks = append(d.Chunks, cari.Chunk{Ordinal: i / 2, Start: start, End: end})
	}
	return d, nil
}

// IDsForURLs returns the IDs of the stored documents with the given URLs,
// keyed by URL; when several documents share a URL, the smallest ID.
func (s *Store) IDsForURLs(ctx context.Context, urls []string) (map[string]string, error) {
	target := s.readTarget(ctx)
	client, err := s.conn()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(urls))
	if len(urls) == 0 {
		return out, nil
	}
	var offset *qdrant.PointId
	for {
		pts, next, err := client.ScrollAndOffset(ctx, &qdrant.ScrollPoints{
			CollectionName: target,
			Filter:         &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchKeywords(fieldURL, urls...)}},
			WithPayload:    qdrant.NewWithPayloadInclude(fieldID, fieldURL),
			WithVectors:    qdrant.NewWithVectors(false),
			Limit:          qdrant.PtrOf(uint32(1000)),
			Offset:         offset,
		})
		if err != nil {
			return nil, fmt.Errorf("look up %d urls in %s: %w", len(urls), target, err)
		}
		for _, p := range pts {
			u, id := p.GetPayload()[fieldURL].GetStringValue(), p.GetPayload()[fieldID].GetStringValue()
			if prev, ok := out[u]; !ok || id < prev {
				out[u] = id
			}
		}
		if next == nil {
			return out, nil
		}
		offset = next
	}
}

// Stats returns the generation's document and passage counts (exact), and
// the average document length its BM25 weights were computed with. The
// collection's disk size is Qdrant's to report (its /metrics), so
// DiskBytes is 0.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	target := s.readTarget(ctx)
	client, err := s.conn()
	if err != nil {
		return store.Stats{}, err
	}
	if target == s.opts.Alias {
		serving, err := s.resolveAlias(ctx, target)
		if err != nil {
			return store.Stats{}, err
		}
		if err := s.follow(ctx, serving); err != nil {
			return store.Stats{}, err
		}
	}
	docs, chunks, err := count(ctx, client, target)
	if err != nil {
		return store.Stats{}, err
	}
	m := s.current()
	st := store.Stats{Generation: m.Collection, Documents: docs, Chunks: chunks}
	if target != s.opts.Alias {
		st.Generation = target
	}
	if docs > 0 {
		st.AvgDocTokens = m.Avgdl[""]
	}
	return st, nil
}

// count returns the number of documents and of passages in collection coll
// (exact).
func count(ctx context.Context, client *qdrant.Client, coll string) (docs, chunks int64, err error) {
	exact := true
	n, err := client.Count(ctx, &qdrant.CountPoints{CollectionName: coll, Exact: &exact})
	if err != nil {
		return 0, 0, fmt.Errorf("count documents in %s: %w", coll, err)
	}
	if n == 0 {
		return 0, 0, nil
	}
	facets, err := client.Facet(ctx, &qdrant.FacetCounts{CollectionName: coll, Key: fieldNChunks, Exact: &exact, Limit: qdrant.PtrOf(uint64(1 << 20))})
	if err != nil {
		return 0, 0, fmt.Errorf("count passages in %s: %w", coll, err)
	}
	for _, h := range facets {
		chunks += h.GetValue().GetIntegerValue() * int64(h.GetCount())
	}
	return int64(n), chunks, nil
}

// Fingerprints returns the store.Fingerprint each stored document was
// written with; IDs not stored, or stored before fingerprints were kept,
// are absent from the map.
func (s *Store) Fingerprints(ctx context.Context, ids []string) (map[string]string, error) {
	pts, err := s.get(ctx, ids, qdrant.NewWithPayloadInclude(fieldID, fieldFingerprint))
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(pts))
	for _, p := range pts {
		pl := p.GetPayload()
		if fp := pl[fieldFingerprint].GetStringValue(); fp != "" {
			out[pl[fieldID].GetStringValue()] = fp
		}
	}
	return out, nil
}
