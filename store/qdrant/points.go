package qdrant

import (
	"context"
	"crypto/sha1"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// pointID is the point of a document: a UUID made from the SHA-1 of its ID
// (name-based, version 5 layout), so any process finds it without a lookup.
func pointID(docID string) *qdrant.PointId {
	h := sha1.Sum([]byte("cari:" + docID))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return qdrant.NewIDUUID(fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16]))
}

// termIndex is a term's dimension in the sparse vectors: 32 bits of its
// FNV-1a hash. Two terms that collide share a dimension (about one pair in
// 10,000 among 1,000 query terms of a million-term vocabulary).
func termIndex(term string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(term))
	return h.Sum32()
}

// sparse turns term weights into a sparse vector, indices ascending.
func sparse(weights map[uint32]float64) (indices []uint32, values []float32) {
	indices = make([]uint32, 0, len(weights))
	for i := range weights {
		indices = append(indices, i)
	}
	slices.Sort(indices)
	values = make([]float32, len(indices))
	for k, i := range indices {
		values[k] = float32(weights[i])
	}
	return indices, values
}

// termWeight is one term's BM25 weight in a document, all but the IDF,
// which Qdrant applies at query time.
func termWeight(bm store.BM25, tf, dl, avgdl float64) float64 {
	return bm.TermScore(1, tf, dl, avgdl)
}

// phraseTerms renders analyzed tokens for the phrase index: terms separated
// by spaces, with one gap marker for each position a stop word left, so that
// "cross the meadow" matches "cross a meadow" as the local store's phrase
// query does.
func phraseTerms(tokens []store.Token) string {
	var b strings.Builder
	prev := 0
	for i, t := range tokens {
		if i > 0 {
			b.WriteByte(' ')
			for range t.Position - prev - 1 {
				b.WriteString(gapMarker + " ")
			}
		}
		b.WriteString(t.Term)
		prev = t.Position
	}
	return b.String()
}

// meanOf is the mean of the passage vectors, each scaled to unit length
// first so that each passage counts alike under cosine.
func meanOf(vs [][]float32) []float32 {
	mean := make([]float64, len(vs[0]))
	for _, v := range vs {
		var norm float64
		for _, x := range v {
			norm += float64(x) * float64(x)
		}
		if norm == 0 {
			continue
		}
		norm = math.Sqrt(norm)
		for i, x := range v {
			mean[i] += float64(x) / norm
		}
	}
	out := make([]float32, len(mean))
	for i, x := range mean {
		out[i] = float32(x / float64(len(vs)))
	}
	return out
}

// gapMarker stands for a removed stop word; the analyzer never makes it.
const gapMarker = "\u00b7"

// Upsert stores entries, replacing documents with the same ID; within
// entries a later document replaces an earlier one. Entries are checked
// before anything is sent, so a refused batch writes nothing; the points
// go in requests of at most Options.BatchBytes, each applied before the
// next is sent (wait). Qdrant applies a request atomically on each shard,
// not across shards: after a crash part of a batch may be stored, and
// upserting it again completes it. While a reindex builds a new generation
// the entries are written there too (first), so the swap loses nothing; a
// serving generation of another model (Options.Rebuild) gets them only
// there.
func (s *Store) Upsert(ctx context.Context, entries []store.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	b, err := s.building(ctx)
	if err != nil {
		return err
	}
	entries = store.LastByID(entries)
	// Both generations analyse alike (building checks the analyzer), so
	// the bodies are analysed once for both.
	bodies := s.analyse(entries)
	if b != nil {
		if err := b.write(ctx, entries, bodies); err != nil {
			return fmt.Errorf("write to the generation being built: %w", err)
		}
		if m := s.current(); s.opts.Rebuild && m.Vectors != s.opts.Vectors {
			return nil
		}
	}
	return s.write(ctx, entries, bodies)
}

// upsert writes entries to this store's collection only.
func (s *Store) upsert(ctx context.Context, entries []store.Entry) error {
	entries = store.LastByID(entries)
	return s.write(ctx, entries, s.analyse(entries))
}

// analyse analyses the body of each entry in its body field. A document
// that names no language gets the detected one when detection is sure
// (store.Analysis.DocumentField).
func (s *Store) analyse(entries []store.Entry) []analysed {
	bodies := make([]analysed, len(entries))
	for i := range entries {
		d := &entries[i].Doc
		field := s.analysis.DocumentField(d)
		bodies[i] = analysed{field: field, tokens: s.analysis.Tokens(field, store.Body(d.Title, d.Text))}
	}
	return bodies
}

// write stores entries, one ID each, with their analysed bodies in this
// store's collection.
func (s *Store) write(ctx context.Context, entries []store.Entry, bodies []analysed) error {
	client, err := s.conn()
	if err != nil {
		return err
	}
	if err := s.checkVectors(entries); err != nil {
		return err
	}
	sums, counts := map[string]float64{}, map[string]float64{}
	for _, body := range bodies {
		for _, f := range []string{body.field, ""} {
			sums[f] += float64(len(body.tokens))
			counts[f]++
		}
	}
	for f := range sums {
		sums[f] /= counts[f]
	}
	avgdl, err := s.avgdl(ctx, sums)
	if err != nil {
		return err
	}
	wait := true
	var batch []*qdrant.PointStruct
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := client.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: s.target, Wait: &wait, Points: batch})
		if err != nil {
			return fmt.Errorf("upsert %d points into %s: %w", len(batch), s.target, err)
		}
		batch, size = nil, 0
		return nil
	}
	for i, e := range entries {
		p := s.point(e, bodies[i], avgdl[bodies[i].field])
		n := proto.Size(p)
		if size+n > s.opts.BatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, p)
		size += n
	}
	return flush()
}

func (s *Store) checkVectors(entries []store.Entry) error {
	m := s.current()
	if s.opts.Rebuild && m.Vectors != s.opts.Vectors {
		return fmt.Errorf("collection %s holds vectors of %s and is open for a rebuild with %s: it takes no writes", m.Collection, m.Vectors, s.opts.Vectors)
	}
	space := m.Vectors
	for _, e := range entries {
		switch {
		case space.IsZero() && e.Vectors != nil:
			return fmt.Errorf("document %q comes with vectors, but collection %s is keyword-only; reindex with an embedding model", e.Doc.ID, m.Collection)
		case space.IsZero():
			continue
		case e.Vectors == nil:
			return fmt.Errorf("collection %s holds vectors of %s, and document %q has none: configure that embedding model", m.Collection, space, e.Doc.ID)
		case len(e.Vectors) != len(e.Chunks):
			return fmt.Errorf("document %q has %d passages and %d vectors", e.Doc.ID, len(e.Chunks), len(e.Vectors))
		}
		for i, v := range e.Vectors {
			if len(v) != space.Dim {
				return fmt.Errorf("passage %d of document %q has %d dimensions, collection %s has %d", i, e.Doc.ID, len(v), m.Collection, space.Dim)
			}
		}
	}
	return nil
}

// analysed is a document's body as its field analyses it.
type analysed struct {
	field  string
	tokens []store.Token
}

// point builds a document's point: payload, sparse BM25 weights of the
// body in its field's vector, and the passage vectors.
func (s *Store) point(e store.Entry, body analysed, avgdl float64) *qdrant.PointStruct {
	d := e.Doc
	tf := make(map[uint32]float64)
	for _, t := range body.tokens {
		tf[termIndex(t.Term)]++
	}
	dl := float64(len(body.tokens))
	bm := s.opts.fieldBM25(body.field)
	for i, f := range tf {
		tf[i] = termWeight(bm, f, dl, avgdl)
	}
	vectors := map[string]*qdrant.Vector{}
	if len(tf) > 0 {
		indices, values := sparse(tf)
		vectors[sparseVector] = qdrant.NewVectorSparse(indices, values)
	}
	if len(e.Vectors) > 0 {
		vectors[denseVector] = qdrant.NewVectorMulti(e.Vectors)
		vectors[meanVector] = qdrant.NewVectorDense(meanOf(e.Vectors))
	}
	p := payload(d, e.Chunks, body)
	p[fieldFingerprint] = qdrant.NewValueString(store.Fingerprint(e))
	return &qdrant.PointStruct{
		Id:      pointID(d.ID),
		Payload: p,
		Vectors: qdrant.NewVectorsMap(vectors),
	}
}

func payload(d cari.Document, chunks []cari.Chunk, body analysed) map[string]*qdrant.Value {
	p := map[string]*qdrant.Value{
		fieldID:                qdrant.NewValueString(d.ID),
		fieldTitle:             qdrant.NewValueString(d.Title),
		fieldText:              qdrant.NewValueString(d.Text),
		fieldHash:              qdrant.NewValueString(d.ContentHash),
		fieldBodyLen:           qdrant.NewValueInt(int64(len(body.tokens))),
		fieldBodyField:         qdrant.NewValueString(body.field),
		fieldNChunks:           qdrant.NewValueInt(int64(len(chunks))),
		termsField(body.field): qdrant.NewValueString(phraseTerms(body.tokens)),
		fieldChunks:            chunkOffsets(chunks),
		fieldAuthor:            qdrant.NewValueString(d.Author),
		fieldLanguage:          qdrant.NewValueString(d.Language),
		fieldDomain:            qdrant.NewValueString(d.Domain),
		fieldCategory:          qdrant.NewValueString(d.Category),
	}
	if d.URL != "" {
		p[fieldURL] = qdrant.NewValueString(d.URL)
	}
	if d.Domain != "" {
		p[fieldDomainKeys] = stringList(store.DomainKeys(d.Domain))
	}
	if d.Language != "" {
		p[fieldLanguageKeys] = stringList(store.LanguageKeys(d.Language))
	}
	if !d.Published.IsZero() {
		p[fieldPublished] = qdrant.NewValueString(d.Published.UTC().Format(time.RFC3339Nano))
	}
	if !d.Crawled.IsZero() {
		p[fieldCrawled] = qdrant.NewValueString(d.Crawled.UTC().Format(time.RFC3339Nano))
	}
	return p
}

func stringList(ss []string) *qdrant.Value {
	vs := make([]*qdrant.Value, len(ss))
	for i, s := range ss {
		vs[i] = qdrant.NewValueString(s)
	}
	return qdrant.NewValueFromList(vs...)
}

func chunkOffsets(chunks []cari.Chunk) *qdrant.Value {
	vs := make([]*qdrant.Value, 0, 2*len(chunks))
	for _, c := range chunks {
		vs = append(vs, qdrant.NewValueInt(int64(c.Start)), qdrant.NewValueInt(int64(c.End)))
	}
	return qdrant.NewValueFromList(vs...)
}

// Delete removes the documents with the given IDs and returns the IDs that
// were not stored.
func (s *Store) Delete(ctx context.Context, ids []string) (notFound []string, err error) {
	client, err := s.conn()
	if err != nil {
		return nil, err
	}
	uniq := distinct(ids)
	if len(uniq) == 0 {
		return nil, nil
	}
	found, err := s.existing(ctx, client, uniq)
	if err != nil {
		return nil, err
	}
	var del []*qdrant.PointId
	for _, id := range uniq {
		if found[id] {
			del = append(del, pointID(id))
		} else {
			notFound = append(notFound, id)
		}
	}
	if b, err := s.building(ctx); err != nil {
		return nil, err
	} else if b != nil {
		if _, err := b.Delete(ctx, ids); err != nil {
			return nil, fmt.Errorf("delete from the generation being built: %w", err)
		}
	}
	if len(del) == 0 {
		return notFound, nil
	}
	wait := true
	_, err = client.Delete(ctx, &qdrant.DeletePoints{CollectionName: s.target, Wait: &wait, Points: qdrant.NewPointsSelectorIDs(del)})
	if err != nil {
		return nil, fmt.Errorf("delete %d points from %s: %w", len(del), s.target, err)
	}
	return notFound, nil
}

// existing reports which of ids are stored.
func (s *Store) existing(ctx context.Context, client *qdrant.Client, ids []string) (map[string]bool, error) {
	pids := make([]*qdrant.PointId, len(ids))
	for i, id := range ids {
		pids[i] = pointID(id)
	}
	pts, err := client.Get(ctx, &qdrant.GetPoints{CollectionName: s.target, Ids: pids,
		WithPayload: qdrant.NewWithPayloadInclude(fieldID), WithVectors: qdrant.NewWithVectors(false)})
	if err != nil {
		return nil, fmt.Errorf("look up %d documents in %s: %w", len(ids), s.target, err)
	}
	out := make(map[string]bool, len(pts))
	for _, p := range pts {
		out[p.GetPayload()[fieldID].GetStringValue()] = true
	}
	return out, nil
}

// distinct returns ss without repeats, in the order first met.
func distinct(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	var out []string
	for _, x := range ss {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
