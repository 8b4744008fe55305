package local

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local/hnsw"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari"
)

// Upsert stores entries, replacing documents with the same ID. The batch is
// atomic: documents, postings, corpus statistics and passage vectors change
// together (the vector log is written first and the keyword index commits
// the offset it reached; see vectorlog.go). Within entries a later document
// replaces an earlier one with the same ID. Documents must have been
// normalized (cari.Document.Normalize). While a reindex builds a generation
// the entries are written to it too, so the swap loses nothing.
func (s *Store) Upsert(ctx context.Context, entries []store.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	entries = store.LastByID(entries)
	an := analyse(s.analyzer, entries)

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	serving, building, release, err := s.writeTargets()
	if err != nil {
		return err
	}
	defer release()
	if err := serving.upsert(entries, an, -1); err != nil {
		return err
	}
	if building != nil {
		if err := building.upsert(entries, an, -1); err != nil {
			return fmt.Errorf("write to generation %s, which a reindex is building: %w", building.m.Name, err)
		}
	}
	s.maybeCompact(serving)
	return nil
}

// writeTargets returns the generations a write goes to: the serving one,
// kept open until release, and the one being built, if any. The caller
// holds writeMu, which the building generation's owner takes too.
func (s *Store) writeTargets() (serving, building *generation, release func(), err error) {
	serving, err = s.acquire()
	if err != nil {
		return nil, nil, nil, err
	}
	s.mu.Lock()
	building = s.building
	s.mu.Unlock()
	return serving, building, serving.refs.Done, nil
}

// positionKey holds, in a generation a reindex builds, how far into its
// source the committed batches reach.
var positionKey = []byte("cari:reindex-position")

// analysed is what analyse works out for a batch's entries, by position.
type analysed struct {
	fields       []string // the body field (store.Analysis.DocumentFields)
	lengths      []int64  // the number of terms the body has there
	fingerprints []string // store.Fingerprint
}

// analyse works out, on every core and before a write takes the lock, each
// entry's body field, body length and fingerprint.
func analyse(a *store.Analysis, entries []store.Entry) analysed {
	an := analysed{
		fields:       a.DocumentFields(entries),
		lengths:      make([]int64, len(entries)),
		fingerprints: make([]string, len(entries)),
	}
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(entries))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(entries); i += workers {
				d := &entries[i].Doc
				an.lengths[i] = int64(len(a.Analyze(an.fields[i], store.Body(d.Title, d.Text))))
				an.fingerprints[i] = store.Fingerprint(entries[i])
			}
		})
	}
	wg.Wait()
	return an
}

// upsert writes entries to the generation in one atomic batch, each body in
// its field with its length in terms (analyse); an entry stored with the
// same fingerprint already is left out, and a batch of only those writes
// nothing. position, when not negative, is recorded with them (see
// Build.Commit).
func (g *generation) upsert(entries []store.Entry, an analysed, position int64) error {
	if g.readOnly != "" {
		return fmt.Errorf("%s; until then it takes no writes", g.readOnly)
	}
	r, err := g.reader()
	if err != nil {
		return err
	}
	defer r.Close()
	if err := g.checkVectors(entries); err != nil {
		return err
	}
	stats, err := snapshotStats(r)
	if err != nil {
		return err
	}

	batch := g.idx.NewBatch()
	recs := make([]vectorRecord, 0, len(entries))
	for i := range entries {
		d := &entries[i].Doc
		old, found, err := storedShare(r, d.ID)
		if err != nil {
			return fmt.Errorf("look up existing document %q: %w", d.ID, err)
		}
		if found && old.fingerprint == an.fingerprints[i] {
			continue
		}
		if found {
			stats.remove(old)
		}
		field, n := an.fields[i], an.lengths[i]
		body := store.Body(d.Title, d.Text)
		stats.add(docShare{field: field, tokens: n, chunks: int64(len(entries[i].Chunks))})
		f := fieldsOf(d, field, body, n)
		f[fieldChunks] = encodeChunks(entries[i].Chunks)
		f[fieldFingerprint] = an.fingerprints[i]
		if err := batch.Index(d.ID, f); err != nil {
			return fmt.Errorf("index document %q: %w", d.ID, err)
		}
		recs = append(recs, vectorRecord{op: opPut, id: d.ID, vectors: entries[i].Vectors})
	}
	if len(recs) == 0 && position < 0 {
		return nil
	}
	if len(recs) > 0 {
		stats.LastWrite = time.Now().UTC()
	}
	if err := setStats(batch, stats); err != nil {
		return err
	}
	if position >= 0 {
		batch.SetInternal(positionKey, binary.LittleEndian.AppendUint64(nil, uint64(position)))
	}
	graph, ok := g.vecs.(*hnsw.Index)
	if !ok || g.vlog == nil {
		if err := g.commit(batch, recs, nil); err != nil {
			return err
		}
		if g.vecs != nil {
			for _, rec := range recs {
				if err := g.vecs.Put(rec.id, rec.vectors); err != nil {
					return err
				}
			}
			g.snapshotVectors(false)
		}
		return nil
	}
	// Inserting into the graph, the larger part of a write, runs beside
	// the keyword commit, on another core; the passages become visible
	// once both are done, and are dropped if the commit fails.
	var staged *hnsw.Batch
	var stageErr error
	err = g.commit(batch, recs, func() { staged, stageErr = graph.Stage(puts(recs)) })
	switch {
	case err != nil && staged != nil:
		graph.Abort(staged)
	case err == nil && stageErr != nil:
		// checkVectors let nothing through that stage refuses.
		return fmt.Errorf("batch committed, but its vectors are not searchable until the store is reopened: %w", stageErr)
	case err == nil:
		graph.Publish(staged)
		g.snapshotVectors(false)
	}
	return err
}

// checkVectors refuses entries whose vectors do not fit the generation: a
// keyword-only generation takes none, a vector generation needs one vector
// of its dimension per passage.
func (g *generation) checkVectors(entries []store.Entry) error {
	space := g.m.Vectors
	for _, e := range entries {
		switch {
		case space.IsZero() && e.Vectors != nil:
			return fmt.Errorf("document %q comes with vectors, but generation %s is keyword-only; reindex with an embedding model", e.Doc.ID, g.m.Name)
		case space.IsZero():
			continue
		case e.Vectors == nil:
			return fmt.Errorf("generation %s holds vectors of %s, and document %q has none: configure that embedding model", g.m.Name, space, e.Doc.ID)
		case len(e.Vectors) != len(e.Chunks):
			return fmt.Errorf("document %q has %d passages and %d vectors", e.Doc.ID, len(e.Chunks), len(e.Vectors))
		}
		for i, v := range e.Vectors {
			if len(v) != space.Dim {
				return fmt.Errorf("passage %d of document %q has %d dimensions, generation %s has %d", i, e.Doc.ID, len(v), g.m.Name, space.Dim)
			}
		}
	}
	return nil
}

// commit writes the batch's vector records to the log, then the keyword
// batch with the log's new end offset. Only when both succeed is the batch
// acknowledged; otherwise the log is cut back. alongside, when not nil, runs
// once the records are in the log, while the keyword batch commits, and is
// finished when commit returns.
func (g *generation) commit(batch *bleve.Batch, recs []vectorRecord, alongside func()) error {
	if g.vlog == nil {
		if err := g.idx.Batch(batch); err != nil {
			return fmt.Errorf("commit batch: %w", err)
		}
		g.impacts.committed()
		return nil
	}
	end, err := g.vlog.append(recs)
	if err != nil {
		return err
	}
	batch.SetInternal(vlogKey, binary.LittleEndian.AppendUint64(nil, uint64(end)))
	if alongside != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			alongside()
		}()
		defer func() { <-done }()
	}
	if err := g.idx.Batch(batch); err != nil {
		g.vlog.rollback(g.vlog.size)
		return fmt.Errorf("commit batch: %w", err)
	}
	g.vlog.commit(end)
	g.impacts.committed()
	return nil
}

// Delete removes the documents with the given IDs and returns the IDs that
// were not there. While a reindex builds a generation they are removed from
// it too.
func (s *Store) Delete(ctx context.Context, ids []string) (notFound []string, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	serving, building, release, err := s.writeTargets()
	if err != nil {
		return nil, err
	}
	defer release()
	notFound, err = serving.delete(ids)
	if err != nil {
		return nil, err
	}
	if building != nil {
		if _, err := building.delete(ids); err != nil {
			return nil, fmt.Errorf("delete from generation %s, which a reindex is building: %w", building.m.Name, err)
		}
	}
	s.maybeCompact(serving)
	return notFound, nil
}

func (g *generation) delete(ids []string) (notFound []string, err error) {
	if g.readOnly != "" {
		return nil, fmt.Errorf("%s; until then it takes no writes", g.readOnly)
	}
	r, err := g.reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	stats, err := snapshotStats(r)
	if err != nil {
		return nil, err
	}
	batch := g.idx.NewBatch()
	var recs []vectorRecord
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		old, found, err := storedShare(r, id)
		if err != nil {
			return nil, fmt.Errorf("look up document %q: %w", id, err)
		}
		if !found {
			notFound = append(notFound, id)
			continue
		}
		stats.remove(old)
		batch.Delete(id)
		recs = append(recs, vectorRecord{op: opDelete, id: id})
	}
	if batch.Size() == 0 {
		return notFound, nil
	}
	stats.LastWrite = time.Now().UTC()
	if err := setStats(batch, stats); err != nil {
		return nil, err
	}
	if err := g.commit(batch, recs, nil); err != nil {
		return nil, err
	}
	if g.vecs != nil {
		for _, rec := range recs {
			g.vecs.Delete(rec.id)
		}
		g.snapshotVectors(false)
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
	d, found, err := storedShare(r, id)
	return d.tokens, d.chunks, found, err
}

// storedShare returns what a stored document contributes to the corpus
// statistics: its body field, analyzed body length and number of passages.
func storedShare(r index.IndexReader, id string) (share docShare, found bool, err error) {
	doc, err := r.Document(id)
	if err != nil || doc == nil {
		return docShare{}, false, err
	}
	var lenOK bool
	doc.VisitFields(func(f index.Field) {
		switch f.Name() {
		case fieldBodyLen:
			if nf, ok := f.(index.NumericField); ok {
				if v, nerr := nf.Number(); nerr == nil {
					share.tokens, lenOK = int64(v), true
				}
			}
		case fieldBodyField:
			share.field = string(f.Value())
		case fieldFingerprint:
			share.fingerprint = string(f.Value())
		case fieldChunks:
			cs, cerr := decodeChunks(string(f.Value()))
			if cerr != nil {
				err = cerr
			}
			share.chunks = int64(len(cs))
		}
	})
	if err == nil && !lenOK {
		err = fmt.Errorf("stored document has no %s field", fieldBodyLen)
	}
	if err == nil && share.field == "" {
		err = fmt.Errorf("stored document has no %s field", fieldBodyField)
	}
	return share, err == nil, err
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

// fieldsOf returns the index fields of d, whose body goes to bodyField.
func fieldsOf(d *cari.Document, bodyField, body string, bodyLen int64) map[string]any {
	f := map[string]any{
		bodyField:      body,
		fieldBodyField: bodyField,
		fieldTitle:     d.Title,
		fieldText:      d.Text,
		fieldBodyLen:   float64(bodyLen),
		fieldHash:      d.ContentHash,
	}
	optional := map[string]string{
		fieldURL:      d.URL,
		fieldAuthor:   d.Author,
		fieldLanguage: d.Language,
		fieldDomain:   d.Domain,
		fieldCategory: d.Category,
	}
	for k, v := range optional {
		if v != "" {
			f[k] = v
		}
	}
	if d.Domain != "" {
		f[fieldDomainKeys] = store.DomainKeys(d.Domain)
	}
	if d.Language != "" {
		f[fieldLanguageKeys] = store.LanguageKeys(d.Language)
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
