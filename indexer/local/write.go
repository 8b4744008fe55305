package local

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
)

// Upsert stores entries, replacing documents with the same ID. The batch is
// atomic: documents, postings, corpus statistics and passage vectors change
// together (the vector log is written first and the keyword index commits
// the offset it reached; see vectorlog.go). Within entries a later document
// replaces an earlier one with the same ID. Documents must have been
// normalized (cari.Document.Normalize).
func (s *Store) Upsert(ctx context.Context, entries []indexer.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	entries = lastByID(entries)

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	r, release, err := s.snapshot()
	if err != nil {
		return err
	}
	defer release()
	if err := s.checkVectors(entries); err != nil {
		return err
	}
	stats, err := snapshotStats(r)
	if err != nil {
		return err
	}

	batch := s.idx.NewBatch()
	for i := range entries {
		d := &entries[i].Doc
		oldLen, oldChunks, found, err := storedCounts(r, d.ID)
		if err != nil {
			return fmt.Errorf("look up existing document %q: %w", d.ID, err)
		}
		if found {
			stats.Docs--
			stats.BodyTokens -= oldLen
			stats.Chunks -= oldChunks
		}
		body := bodyOf(d)
		n := int64(len(s.analyzer.Analyze([]byte(body))))
		stats.Docs++
		stats.BodyTokens += n
		stats.Chunks += int64(len(entries[i].Chunks))
		f := fieldsOf(d, body, n)
		f[fieldChunks] = encodeChunks(entries[i].Chunks)
		if err := batch.Index(d.ID, f); err != nil {
			return fmt.Errorf("index document %q: %w", d.ID, err)
		}
	}
	if err := setStats(batch, stats); err != nil {
		return err
	}
	recs := make([]vectorRecord, 0, len(entries))
	for _, e := range entries {
		recs = append(recs, vectorRecord{op: opPut, id: e.Doc.ID, vectors: e.Vectors})
	}
	if err := s.commit(batch, recs); err != nil {
		return err
	}
	if s.vecs != nil {
		for _, rec := range recs {
			if err := s.vecs.put(rec.id, rec.vectors); err != nil {
				return err
			}
		}
		s.snapshotVectors(false)
	}
	return nil
}

// checkVectors refuses entries whose vectors do not fit the generation: a
// keyword-only generation takes none, a vector generation needs one vector
// of its dimension per passage.
func (s *Store) checkVectors(entries []indexer.Entry) error {
	space := s.gen.Vectors
	for _, e := range entries {
		switch {
		case space.IsZero() && e.Vectors != nil:
			return fmt.Errorf("document %q comes with vectors, but generation %s is keyword-only; reindex with an embedding model", e.Doc.ID, s.gen.Name)
		case space.IsZero():
			continue
		case e.Vectors == nil:
			return fmt.Errorf("generation %s holds vectors of %s, and document %q has none: configure that embedding model", s.gen.Name, space, e.Doc.ID)
		case len(e.Vectors) != len(e.Chunks):
			return fmt.Errorf("document %q has %d passages and %d vectors", e.Doc.ID, len(e.Chunks), len(e.Vectors))
		}
		for i, v := range e.Vectors {
			if len(v) != space.Dim {
				return fmt.Errorf("passage %d of document %q has %d dimensions, generation %s has %d", i, e.Doc.ID, len(v), s.gen.Name, space.Dim)
			}
		}
	}
	return nil
}

// commit writes the batch's vector records to the log, then the keyword
// batch with the log's new end offset. Only when both succeed is the batch
// acknowledged; otherwise the log is cut back.
func (s *Store) commit(batch *bleve.Batch, recs []vectorRecord) error {
	if s.vlog == nil {
		if err := s.idx.Batch(batch); err != nil {
			return fmt.Errorf("commit batch: %w", err)
		}
		return nil
	}
	end, err := s.vlog.append(recs)
	if err != nil {
		return err
	}
	batch.SetInternal(vlogKey, binary.LittleEndian.AppendUint64(nil, uint64(end)))
	if err := s.idx.Batch(batch); err != nil {
		s.vlog.rollback(s.vlog.size)
		return fmt.Errorf("commit batch: %w", err)
	}
	s.vlog.commit(end)
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
	var recs []vectorRecord
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		oldLen, oldChunks, found, err := storedCounts(r, id)
		if err != nil {
			return nil, fmt.Errorf("look up document %q: %w", id, err)
		}
		if !found {
			notFound = append(notFound, id)
			continue
		}
		stats.Docs--
		stats.BodyTokens -= oldLen
		stats.Chunks -= oldChunks
		batch.Delete(id)
		recs = append(recs, vectorRecord{op: opDelete, id: id})
	}
	if batch.Size() == 0 {
		return notFound, nil
	}
	if err := setStats(batch, stats); err != nil {
		return nil, err
	}
	if err := s.commit(batch, recs); err != nil {
		return nil, err
	}
	if s.vecs != nil {
		for _, rec := range recs {
			s.vecs.delete(rec.id)
		}
		s.snapshotVectors(false)
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

// storedCounts returns what a stored document contributes to the corpus
// statistics: its analyzed body length and its number of passages.
func storedCounts(r index.IndexReader, id string) (bodyLen, chunks int64, found bool, err error) {
	doc, err := r.Document(id)
	if err != nil || doc == nil {
		return 0, 0, false, err
	}
	var lenOK bool
	doc.VisitFields(func(f index.Field) {
		switch f.Name() {
		case fieldBodyLen:
			if nf, ok := f.(index.NumericField); ok {
				if v, nerr := nf.Number(); nerr == nil {
					bodyLen, lenOK = int64(v), true
				}
			}
		case fieldChunks:
			cs, cerr := decodeChunks(string(f.Value()))
			if cerr != nil {
				err = cerr
			}
			chunks = int64(len(cs))
		}
	})
	if err == nil && !lenOK {
		err = fmt.Errorf("stored document has no %s field", fieldBodyLen)
	}
	return bodyLen, chunks, err == nil, err
}

func lastByID(entries []indexer.Entry) []indexer.Entry {
	pos := make(map[string]int, len(entries))
	out := make([]indexer.Entry, 0, len(entries))
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

// encodeChunks stores passage offsets compactly: "start-end start-end ...".
func encodeChunks(chunks []cari.Chunk) string {
	var b strings.Builder
	for i, c := range chunks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(c.Start))
		b.WriteByte('-')
		b.WriteString(strconv.Itoa(c.End))
	}
	return b.String()
}

func decodeChunks(s string) ([]cari.Chunk, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Fields(s)
	out := make([]cari.Chunk, len(parts))
	for i, p := range parts {
		a, b, ok := strings.Cut(p, "-")
		start, err1 := strconv.Atoi(a)
		end, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || start < 0 || end < start {
			return nil, fmt.Errorf("damaged passage offsets %q", p)
		}
		out[i] = cari.Chunk{Ordinal: i, Start: start, End: end}
	}
	return out, nil
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
