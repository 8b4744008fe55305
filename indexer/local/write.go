package local

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari"
)

// Upsert stores docs, replacing documents with the same ID. The batch is
// atomic: documents, postings and corpus statistics change together. Within
// docs a later document replaces an earlier one with the same ID. Documents
// must have been normalized (cari.Document.Normalize).
func (s *Store) Upsert(ctx context.Context, docs []cari.Document) error {
	if len(docs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	docs = lastByID(docs)

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	r, release, err := s.snapshot()
	if err != nil {
		return err
	}
	defer release()
	stats, err := snapshotStats(r)
	if err != nil {
		return err
	}

	batch := s.idx.NewBatch()
	for i := range docs {
		d := &docs[i]
		oldLen, found, err := storedBodyLen(r, d.ID)
		if err != nil {
			return fmt.Errorf("look up existing document %q: %w", d.ID, err)
		}
		if found {
			stats.Docs--
			stats.BodyTokens -= oldLen
		}
		body := bodyOf(d)
		n := int64(len(s.analyzer.Analyze([]byte(body))))
		stats.Docs++
		stats.BodyTokens += n
		if err := batch.Index(d.ID, fieldsOf(d, body, n)); err != nil {
			return fmt.Errorf("index document %q: %w", d.ID, err)
		}
	}
	if err := setStats(batch, stats); err != nil {
		return err
	}
	if err := s.idx.Batch(batch); err != nil {
		return fmt.Errorf("commit batch: %w", err)
	}
	return nil
}

// Delete removes the documents with the given IDs and returns the IDs that
// were not there.
func (s *Store) Delete(ctx context.Context, ids []string) (notFound []string, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	r, release, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	defer release()
	stats, err := snapshotStats(r)
	if err != nil {
		return nil, err
	}
	batch := s.idx.NewBatch()
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		oldLen, found, err := storedBodyLen(r, id)
		if err != nil {
			return nil, fmt.Errorf("look up document %q: %w", id, err)
		}
		if !found {
			notFound = append(notFound, id)
			continue
		}
		stats.Docs--
		stats.BodyTokens -= oldLen
		batch.Delete(id)
	}
	if batch.Size() == 0 {
		return notFound, nil
	}
	if err := setStats(batch, stats); err != nil {
		return nil, err
	}
	if err := s.idx.Batch(batch); err != nil {
		return nil, fmt.Errorf("commit delete batch: %w", err)
	}
	return notFound, nil
}

type internalSetter interface {
	SetInternal(key, val []byte)
}

func setStats(b internalSetter, st corpusStats) error {
	enc, err := json.Marshal(st)
	if err != nil {
		return err
	}
	b.SetInternal(statsKey, enc)
	return nil
}

// storedBodyLen returns the analyzed body length stored with document id.
func storedBodyLen(r index.IndexReader, id string) (int64, bool, error) {
	doc, err := r.Document(id)
	if err != nil || doc == nil {
		return 0, false, err
	}
	var n int64
	found := false
	doc.VisitFields(func(f index.Field) {
		if f.Name() != fieldBodyLen {
			return
		}
		if nf, ok := f.(index.NumericField); ok {
			if v, err := nf.Number(); err == nil {
				n, found = int64(v), true
			}
		}
	})
	if !found {
		return 0, false, fmt.Errorf("stored document has no %s field", fieldBodyLen)
	}
	return n, true, nil
}

func lastByID(docs []cari.Document) []cari.Document {
	pos := make(map[string]int, len(docs))
	out := make([]cari.Document, 0, len(docs))
	for _, d := range docs {
		if i, ok := pos[d.ID]; ok {
			out[i] = d
			continue
		}
		pos[d.ID] = len(out)
		out = append(out, d)
	}
	return out
}

func bodyOf(d *cari.Document) string {
	if d.Title == "" {
		return d.Text
	}
	return d.Title + "\n" + d.Text
}

func fieldsOf(d *cari.Document, body string, bodyLen int64) map[string]any {
	f := map[string]any{
		fieldBody:    body,
		fieldTitle:   d.Title,
		fieldText:    d.Text,
		fieldBodyLen: float64(bodyLen),
		fieldHash:    d.ContentHash,
	}
	optional := map[string]string{
		fieldURL:      d.URL,
		fieldAuthor:   d.Author,
		fieldLanguage: d.Language,
		fieldDomain:   d.Domain,
	}
	for k, v := range optional {
		if v != "" {
			f[k] = v
		}
	}
	if d.Domain != "" {
		f[fieldDomainKeys] = domainKeys(d.Domain)
	}
	if d.Language != "" {
		f[fieldLanguageKeys] = languageKeys(d.Language)
	}
	if !d.Published.IsZero() {
		f[fieldPublished] = clampTime(d.Published).Format(time.RFC3339Nano)
		f[fieldPublishedAt] = d.Published.UTC().Format(time.RFC3339Nano)
	}
	if !d.Crawled.IsZero() {
		f[fieldCrawled] = clampTime(d.Crawled).Format(time.RFC3339Nano)
		f[fieldCrawledAt] = d.Crawled.UTC().Format(time.RFC3339Nano)
	}
	return f
}

// domainKeys returns a domain and each parent domain with at least two
// labels: docs.example.com -> [docs.example.com example.com].
func domainKeys(domain string) []string {
	domain = cari.NormalizeDomain(domain)
	keys := []string{domain}
	for {
		i := strings.IndexByte(domain, '.')
		if i < 0 || !strings.Contains(domain[i+1:], ".") {
			return keys
		}
		domain = domain[i+1:]
		keys = append(keys, domain)
	}
}

// languageKeys returns a BCP 47 tag and each shorter prefix, lower-cased:
// zh-Hant-TW -> [zh-hant-tw zh-hant zh].
func languageKeys(tag string) []string {
	tag = normalizeLanguage(tag)
	keys := []string{tag}
	for {
		i := strings.LastIndexByte(tag, '-')
		if i <= 0 {
			return keys
		}
		tag = tag[:i]
		keys = append(keys, tag)
	}
}

func normalizeLanguage(tag string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(tag)), "_", "-")
}

// clampTime brings t into the range bleve's date queries accept (1677-12-01
// to 2262-04-11, within int64 nanoseconds since 1970). Documents and filter
// bounds are clamped alike, so a filter reaching past either end still
// matches the documents beyond it.
func clampTime(t time.Time) time.Time {
	switch {
	case t.Before(query.MinRFC3339CompatibleTime):
		return query.MinRFC3339CompatibleTime
	case t.After(query.MaxRFC3339CompatibleTime):
		return query.MaxRFC3339CompatibleTime
	}
	return t.UTC()
}
