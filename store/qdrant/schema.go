package qdrant

import (
	"context"
	"fmt"
	"time"

	"github.com/cari-search/cari/store"
	"github.com/qdrant/go-client/qdrant"
)

// Payload fields of a point.
const (
	fieldID          = "id"
	fieldURL         = "url"
	fieldTitle       = "title"
	fieldText        = "text"
	fieldAuthor      = "author"
	fieldLanguage    = "language"
	fieldDomain      = "domain"
	fieldHash        = "content_hash"
	fieldPublished   = "published" // RFC 3339, indexed as a datetime
	fieldCrawled     = "crawled"
	fieldChunks      = "chunks"      // passage offsets: start, end, start, end, ...
	fieldNChunks     = "n_chunks"    // passage count, summed by Stats
	fieldBodyLen     = "body_len"    // analyzed length of the body
	fieldBodyField   = "body_field"  // which body field (language) analysed it
	fieldFingerprint = "fingerprint" // store.Fingerprint of what was written
	// Filter keys: domain and language with every parent (see
	// store.DomainKeys); the analyzed body is in termsField(body field).
	fieldDomainKeys   = "domain_keys"
	fieldLanguageKeys = "language_keys"
	// fieldCategory is the document's category, "" for none; a point
	// written before categories were stored lacks the key, and its
	// category is decided on read (document).
	fieldCategory = "category"
)

// Collection metadata keys.
const (
	metaFormat   = "cari_format"
	metaAnalyzer = "cari_analyzer"
	metaModel    = "cari_model"
	metaDim      = "cari_dim"
	metaAvgdl    = "cari_avgdl" // of all documents; per field: metaAvgdl + "_" + field
	metaK1       = "cari_bm25_k1"
	metaB        = "cari_bm25_b"
	metaIDK1     = "cari_bm25_k1_id" // the Indonesian body field's
	metaIDB      = "cari_bm25_b_id"
	// metaCreated is when the collection was created, RFC 3339 in UTC;
	// collections made before it was recorded carry the time in their
	// name (newCollectionName).
	metaCreated = "cari_created"
	// metaCategories is true in collections whose every point carries its
	// category; the category filter is refused elsewhere
	// (store.ErrNoCategories).
	metaCategories = "cari_categories"
)

// meta is what a store knows of the collection it reads and writes.
type meta struct {
	// Collection is the collection's name.
	Collection string
	Vectors    store.VectorSpace
	// Categories says whether the collection's points carry categories
	// (metaCategories).
	Categories bool
	// Avgdl is the average analyzed body length of each body field that
	// documents' BM25 weights are computed with: fixed from the first
	// batch with documents of that field, since a weight stored in Qdrant
	// cannot follow the collection's average. "" holds the average of all
	// documents, for Stats.
	Avgdl map[string]float64
}

// createCollection makes an empty generation: the vectors, the payload
// indexes, and the metadata naming the analyzer, BM25 parameters and
// embedding model.
func (s *Store) createCollection(ctx context.Context, name string) error {
	req := s.collectionSchema(name)
	if err := s.client.CreateCollection(ctx, req); err != nil {
		return fmt.Errorf("create qdrant collection %s: %w", name, err)
	}
	return s.createPayloadIndexes(ctx, name)
}

// createPayloadIndexes makes collection name's payload indexes. Qdrant
// takes an index that exists again (the collection's payload index schema
// is a map insert: lib/collection/src/collection/payload_index_schema.rs,
// create_payload_index_with_wait), so a process can complete the indexes
// of a collection another one created.
func (s *Store) createPayloadIndexes(ctx context.Context, name string) error {
	for _, ix := range payloadIndexes(name) {
		if _, err := s.client.CreateFieldIndex(ctx, ix); err != nil {
			return fmt.Errorf("create payload index %s of %s: %w", ix.FieldName, name, err)
		}
	}
	return nil
}

func (s *Store) collectionSchema(name string) *qdrant.CreateCollection {
	req := &qdrant.CreateCollection{
		CollectionName:      name,
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(sparseConfig()),
		Metadata: qdrant.NewValueMap(map[string]any{
			metaFormat:     formatVersion,
			metaAnalyzer:   s.analysis.Name(),
			metaK1:         s.opts.BM25.K1,
			metaB:          s.opts.BM25.B,
			metaIDK1:       s.opts.IndonesianBM25.K1,
			metaIDB:        s.opts.IndonesianBM25.B,
			metaCreated:    time.Now().UTC().Format(time.RFC3339Nano),
			metaCategories: true,
		}),
	}
	if v := s.opts.Vectors; !v.IsZero() {
		noGraph := uint64(0)
		mean := &qdrant.VectorParams{Size: uint64(v.Dim), Distance: qdrant.Distance_Cosine}
		if s.opts.Quantize {
			// The int8 copy in RAM finds candidates; the float32
			// originals stay on disk.
			mean.OnDisk = qdrant.PtrOf(true)
			mean.QuantizationConfig = qdrant.NewQuantizationScalar(&qdrant.ScalarQuantization{
				Type: qdrant.QuantizationType_Int8, AlwaysRam: qdrant.PtrOf(true),
			})
		}
		req.VectorsConfig = qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			meanVector: mean,
			denseVector: {
				Size:              uint64(v.Dim),
				Distance:          qdrant.Distance_Cosine,
				MultivectorConfig: &qdrant.MultiVectorConfig{Comparator: qdrant.MultiVectorComparator_MaxSim},
				// Ranks the candidates only: no graph, and read from
				// disk (the page cache) for the few candidates a query has.
				HnswConfig: &qdrant.HnswConfigDiff{M: &noGraph},
				OnDisk:     qdrant.PtrOf(true),
			},
		})
		req.Metadata[metaModel] = qdrant.NewValueString(v.Model)
		req.Metadata[metaDim] = qdrant.NewValueInt(int64(v.Dim))
	}
	if s.opts.Shards > 0 {
		req.ShardNumber = &s.opts.Shards
	}
	if s.opts.Replicas > 0 {
		req.ReplicationFactor = &s.opts.Replicas
	}
	return req
}

func sparseConfig() map[string]*qdrant.SparseVectorParams {
	return map[string]*qdrant.SparseVectorParams{sparseVector: {Modifier: qdrant.Modifier_Idf.Enum()}}
}

func payloadIndexes(coll string) []*qdrant.CreateFieldIndexCollection {
	wait := true
	ix := func(field string, typ qdrant.FieldType, params *qdrant.PayloadIndexParams) *qdrant.CreateFieldIndexCollection {
		return &qdrant.CreateFieldIndexCollection{CollectionName: coll, Wait: &wait, FieldName: field,
			FieldType: typ.Enum(), FieldIndexParams: params}
	}
	yes, no := true, false
	out := []*qdrant.CreateFieldIndexCollection{
		ix(fieldID, qdrant.FieldType_FieldTypeKeyword, nil),
		ix(fieldURL, qdrant.FieldType_FieldTypeKeyword, nil),
		ix(fieldBodyField, qdrant.FieldType_FieldTypeKeyword, nil),
		ix(fieldDomainKeys, qdrant.FieldType_FieldTypeKeyword, nil),
		ix(fieldLanguageKeys, qdrant.FieldType_FieldTypeKeyword, nil),
		ix(fieldCategory, qdrant.FieldType_FieldTypeKeyword, nil),
		ix(fieldPublished, qdrant.FieldType_FieldTypeDatetime, nil),
		ix(fieldCrawled, qdrant.FieldType_FieldTypeDatetime, nil),
		// Stats sums the passage counts with a facet, which needs a lookup
		// index.
		ix(fieldNChunks, qdrant.FieldType_FieldTypeInteger, qdrant.NewPayloadIndexParamsInt(&qdrant.IntegerIndexParams{
			Lookup: &yes, Range: &no,
		})),
	}
	// Cari analyses the text itself: Qdrant only splits on spaces and
	// keeps positions for phrase matching.
	for _, f := range store.Fields() {
		out = append(out, ix(termsField(f), qdrant.FieldType_FieldTypeText, qdrant.NewPayloadIndexParamsText(&qdrant.TextIndexParams{
			Tokenizer: qdrant.TokenizerType_Whitespace, Lowercase: &no, PhraseMatching: &yes,
		})))
	}
	return out
}

// loadMeta reads the metadata of collection coll, reconciles it with this
// process (same format and analyzer, same embedding model unless
// Options.Rebuild) and makes coll the store's collection.
func (s *Store) loadMeta(ctx context.Context, coll string) error {
	info, err := s.client.GetCollectionInfo(ctx, coll)
	if err != nil {
		return fmt.Errorf("read collection info: %w", err)
	}
	md := info.GetConfig().GetMetadata()
	if f := md[metaFormat].GetIntegerValue(); f != formatVersion {
		return fmt.Errorf("collection format %d, this build reads %d; reindex it", f, formatVersion)
	}
	if a := md[metaAnalyzer].GetStringValue(); a != s.analysis.Name() {
		return fmt.Errorf("built with analyzer %q, this build uses %q; reindex it", a, s.analysis.Name())
	}
	k1, b := md[metaK1].GetDoubleValue(), md[metaB].GetDoubleValue()
	if k1 != s.opts.BM25.K1 || b != s.opts.BM25.B {
		return fmt.Errorf("built with BM25 k1=%v b=%v, this process uses k1=%v b=%v; reindex it or use the same parameters", k1, b, s.opts.BM25.K1, s.opts.BM25.B)
	}
	// A collection from before the Indonesian field had its own
	// parameters records none: its weights used the global ones.
	if _, ok := md[metaIDK1]; ok {
		k1, b = md[metaIDK1].GetDoubleValue(), md[metaIDB].GetDoubleValue()
	}
	if k1 != s.opts.IndonesianBM25.K1 || b != s.opts.IndonesianBM25.B {
		return fmt.Errorf("built with BM25 k1=%v b=%v for the Indonesian field, this process uses k1=%v b=%v; reindex it or use the same parameters", k1, b, s.opts.IndonesianBM25.K1, s.opts.IndonesianBM25.B)
	}
	have := store.VectorSpace{Model: md[metaModel].GetStringValue(), Dim: int(md[metaDim].GetIntegerValue())}
	want := s.opts.Vectors
	switch {
	case s.opts.Rebuild:
	case have.IsZero() && !want.IsZero():
		return fmt.Errorf("it is keyword-only, and this process embeds with %s; reindex with that model, or run without an embedder", want)
	case !have.IsZero() && !want.IsZero() && have != want:
		return fmt.Errorf("it was embedded with %s, and this process is configured with %s; vectors of different models are not comparable: reindex with the new model or configure the old one", have, want)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	avgdl := map[string]float64{"": md[metaAvgdl].GetDoubleValue()}
	for _, f := range store.Fields() {
		avgdl[f] = md[metaAvgdl+"_"+f].GetDoubleValue()
	}
	s.meta = meta{Collection: coll, Vectors: have, Categories: md[metaCategories].GetBoolValue(), Avgdl: avgdl}
	return nil
}

// current returns what the store knows of its collection.
func (s *Store) current() meta {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.meta
}

// avgdl returns the average body length of each field's BM25 weights,
// fixing those not recorded yet from batch, the batch's average length per
// field ("" for all documents). Another writer may record one first: the
// metadata is read again before writing.
func (s *Store) avgdl(ctx context.Context, batch map[string]float64) (map[string]float64, error) {
	m := s.current()
	missing := false
	for f := range batch {
		if m.Avgdl[f] <= 0 {
			missing = true
		}
	}
	if !missing {
		return m.Avgdl, nil
	}
	info, err := s.client.GetCollectionInfo(ctx, m.Collection)
	if err != nil {
		return nil, fmt.Errorf("read collection info: %w", err)
	}
	md := info.GetConfig().GetMetadata()
	out := map[string]float64{}
	record := map[string]*qdrant.Value{}
	for f, avg := range batch {
		key := metaAvgdl
		if f != "" {
			key += "_" + f
		}
		a := md[key].GetDoubleValue()
		if a <= 0 {
			a = max(avg, 1)
			record[key] = qdrant.NewValueDouble(a)
		}
		out[f] = a
	}
	for f, a := range m.Avgdl {
		if _, ok := out[f]; !ok {
			out[f] = a
		}
	}
	if len(record) > 0 {
		err := s.client.UpdateCollection(ctx, &qdrant.UpdateCollection{CollectionName: m.Collection, Metadata: record})
		if err != nil {
			return nil, fmt.Errorf("record average document lengths: %w", err)
		}
	}
	s.mu.Lock()
	if s.meta.Collection == m.Collection {
		s.meta.Avgdl = out
	}
	s.mu.Unlock()
	return out, nil
}
