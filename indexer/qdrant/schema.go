package qdrant

import (
	"context"
	"fmt"

	"github.com/qdrant/go-client/qdrant"

	"github.com/cari-search/cari/indexer/local"
)

// Payload fields of a point.
const (
	fieldID        = "id"
	fieldURL       = "url"
	fieldTitle     = "title"
	fieldText      = "text"
	fieldAuthor    = "author"
	fieldLanguage  = "language"
	fieldDomain    = "domain"
	fieldHash      = "content_hash"
	fieldPublished = "published" // RFC 3339, indexed as a datetime
	fieldCrawled   = "crawled"
	fieldChunks    = "chunks"   // passage offsets: start, end, start, end, ...
	fieldNChunks   = "n_chunks" // passage count, summed by Stats
	fieldBodyLen   = "body_len" // analyzed length of the body
	// Filter keys: domain and language with every parent (see
	// local.DomainKeys), and the analyzed body as a phrase-searchable text.
	fieldDomainKeys   = "domain_keys"
	fieldLanguageKeys = "language_keys"
	fieldTerms        = "terms"
)

// Collection metadata keys.
const (
	metaFormat   = "cari_format"
	metaAnalyzer = "cari_analyzer"
	metaModel    = "cari_model"
	metaDim      = "cari_dim"
	metaAvgdl    = "cari_avgdl"
	metaK1       = "cari_bm25_k1"
	metaB        = "cari_bm25_b"
)

// meta is what a store knows of the collection it reads and writes.
type meta struct {
	// Collection is the collection's name.
	Collection string
	Vectors    local.VectorSpace
	// Avgdl is the average analyzed body length that documents' BM25
	// weights are computed with: fixed from the first batch written, since
	// a weight stored in Qdrant cannot follow the collection's average.
	Avgdl float64
}

// createCollection makes an empty generation: the vectors, the payload
// indexes, and the metadata naming the analyzer, BM25 parameters and
// embedding model.
func (s *Store) createCollection(ctx context.Context, name string) error {
	req := s.collectionSchema(name)
	if err := s.client.CreateCollection(ctx, req); err != nil {
		return fmt.Errorf("create qdrant collection %s: %w", name, err)
	}
	for _, ix := range payloadIndexes(name) {
		if _, err := s.client.CreateFieldIndex(ctx, ix); err != nil {
			return fmt.Errorf("create payload index %s of %s: %w", ix.FieldName, name, err)
		}
	}
	return nil
}

func (s *Store) collectionSchema(name string) *qdrant.CreateCollection {
	req := &qdrant.CreateCollection{
		CollectionName: name,
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{
			sparseVector: {Modifier: qdrant.Modifier_Idf.Enum()},
		}),
		Metadata: qdrant.NewValueMap(map[string]any{
			metaFormat:   formatVersion,
			metaAnalyzer: s.analysis.Name(),
			metaK1:       s.opts.BM25.K1,
			metaB:        s.opts.BM25.B,
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

func payloadIndexes(coll string) []*qdrant.CreateFieldIndexCollection {
	wait := true
	ix := func(field string, typ qdrant.FieldType, params *qdrant.PayloadIndexParams) *qdrant.CreateFieldIndexCollection {
		return &qdrant.CreateFieldIndexCollection{CollectionName: coll, Wait: &wait, FieldName: field,
			FieldType: typ.Enum(), FieldIndexParams: params}
	}
	yes, no := true, false
	return []*qdrant.CreateFieldIndexCollection{
		ix(fieldID, qdrant.FieldType_FieldTypeKeyword, nil),
		ix(fieldURL, qdrant.FieldType_FieldTypeKeyword, nil),
		ix(fieldDomainKeys, qdrant.FieldType_FieldTypeKeyword, nil),
		ix(fieldLanguageKeys, qdrant.FieldType_FieldTypeKeyword, nil),
		ix(fieldPublished, qdrant.FieldType_FieldTypeDatetime, nil),
		ix(fieldCrawled, qdrant.FieldType_FieldTypeDatetime, nil),
		// Cari analyzes the text itself: Qdrant only splits on spaces and
		// keeps positions for phrase matching.
		ix(fieldTerms, qdrant.FieldType_FieldTypeText, qdrant.NewPayloadIndexParamsText(&qdrant.TextIndexParams{
			Tokenizer: qdrant.TokenizerType_Whitespace, Lowercase: &no, PhraseMatching: &yes,
		})),
		// Stats sums the passage counts with a facet, which needs a lookup
		// index.
		ix(fieldNChunks, qdrant.FieldType_FieldTypeInteger, qdrant.NewPayloadIndexParamsInt(&qdrant.IntegerIndexParams{
			Lookup: &yes, Range: &no,
		})),
	}
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
	if k1, b := md[metaK1].GetDoubleValue(), md[metaB].GetDoubleValue(); k1 != s.opts.BM25.K1 || b != s.opts.BM25.B {
		return fmt.Errorf("built with BM25 k1=%v b=%v, this process uses k1=%v b=%v; reindex it or use the same parameters", k1, b, s.opts.BM25.K1, s.opts.BM25.B)
	}
	have := local.VectorSpace{Model: md[metaModel].GetStringValue(), Dim: int(md[metaDim].GetIntegerValue())}
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
	s.meta = meta{Collection: coll, Vectors: have, Avgdl: md[metaAvgdl].GetDoubleValue()}
	return nil
}

// current returns what the store knows of its collection.
func (s *Store) current() meta {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.meta
}

// avgdl returns the average body length of the collection's BM25 weights,
// fixing it from batch when none is recorded yet. Another writer may record
// one first: the metadata is read again before writing.
func (s *Store) avgdl(ctx context.Context, batchAvg float64) (float64, error) {
	m := s.current()
	a := m.Avgdl
	if a > 0 {
		return a, nil
	}
	info, err := s.client.GetCollectionInfo(ctx, m.Collection)
	if err != nil {
		return 0, fmt.Errorf("read collection info: %w", err)
	}
	if a = info.GetConfig().GetMetadata()[metaAvgdl].GetDoubleValue(); a <= 0 {
		a = max(batchAvg, 1)
		err := s.client.UpdateCollection(ctx, &qdrant.UpdateCollection{
			CollectionName: m.Collection,
			Metadata:       map[string]*qdrant.Value{metaAvgdl: qdrant.NewValueDouble(a)},
		})
		if err != nil {
			return 0, fmt.Errorf("record average document length: %w", err)
		}
	}
	s.mu.Lock()
	if s.meta.Collection == m.Collection {
		s.meta.Avgdl = a
	}
	s.mu.Unlock()
	return a, nil
}
