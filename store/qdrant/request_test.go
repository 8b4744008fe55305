package qdrant_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	pb "github.com/qdrant/go-client/qdrant"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/qdrant"
	"github.com/cari-search/cari/store/qdrant/qdranttest"
)

func openDouble(t *testing.T, opts qdrant.Options) (*qdrant.Store, *qdranttest.Server) {
	t.Helper()
	srv, addr := qdranttest.Start(t, opts.APIKey)
	opts.Addr = addr
	s, err := qdrant.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, srv
}

// TestCollectionSchema checks the collection Cari asks for, field by field.
func TestCollectionSchema(t *testing.T) {
	_, srv := openDouble(t, qdrant.Options{Vectors: space, Shards: 6, Replicas: 2, Alias: "docs", Quantize: true})
	creates := srv.Requests("Collections/Create")
	if len(creates) != 1 {
		t.Fatalf("%d create requests", len(creates))
	}
	c := creates[0].Message.(*pb.CreateCollection)
	if c.GetShardNumber() != 6 || c.GetReplicationFactor() != 2 {
		t.Errorf("shards %d replicas %d, want 6 and 2", c.GetShardNumber(), c.GetReplicationFactor())
	}
	sp := c.GetSparseVectorsConfig().GetMap()["bm25"]
	if sp == nil || sp.GetModifier() != pb.Modifier_Idf || len(c.GetSparseVectorsConfig().GetMap()) != 1 {
		t.Errorf("sparse vectors %v, want bm25 alone, with the IDF modifier", c.GetSparseVectorsConfig())
	}
	d := c.GetVectorsConfig().GetParamsMap().GetMap()["dense"]
	if d == nil || d.GetSize() != uint64(space.Dim) || d.GetDistance() != pb.Distance_Cosine ||
		d.GetMultivectorConfig().GetComparator() != pb.MultiVectorComparator_MaxSim || d.GetHnswConfig() == nil || d.GetHnswConfig().GetM() != 0 {
		t.Errorf("dense vector: %v, want %d dimensions, cosine, MaxSim multivector without a graph", d, space.Dim)
	}
	mean := c.GetVectorsConfig().GetParamsMap().GetMap()["dense_mean"]
	if mean == nil || mean.GetSize() != uint64(space.Dim) || mean.GetDistance() != pb.Distance_Cosine || mean.MultivectorConfig != nil || mean.HnswConfig != nil || !d.GetOnDisk() {
		t.Errorf("mean vector: %v, want a plain HNSW-indexed cosine vector", mean)
	}
	if sq := mean.GetQuantizationConfig().GetScalar(); sq.GetType() != pb.QuantizationType_Int8 || !sq.GetAlwaysRam() || !mean.GetOnDisk() {
		t.Errorf("mean vector quantization %v, want int8 scalar kept in RAM", mean.GetQuantizationConfig())
	}
	md := c.GetMetadata()
	if md["cari_model"].GetStringValue() != space.Model || md["cari_dim"].GetIntegerValue() != int64(space.Dim) || md["cari_analyzer"].GetStringValue() == "" {
		t.Errorf("metadata %v does not record the model and analyzer", md)
	}
	indexes := map[string]pb.FieldType{}
	for _, r := range srv.Requests("Points/CreateFieldIndex") {
		ix := r.Message.(*pb.CreateFieldIndexCollection)
		indexes[ix.GetFieldName()] = ix.GetFieldType()
		if strings.HasPrefix(ix.GetFieldName(), "terms_") {
			tp := ix.GetFieldIndexParams().GetTextIndexParams()
			if tp.GetTokenizer() != pb.TokenizerType_Whitespace || !tp.GetPhraseMatching() || tp.GetLowercase() {
				t.Errorf("terms index %v: want whitespace tokens, phrase matching, no lower-casing", tp)
			}
		}
	}
	want := map[string]pb.FieldType{
		"id": pb.FieldType_FieldTypeKeyword, "url": pb.FieldType_FieldTypeKeyword,
		"domain_keys": pb.FieldType_FieldTypeKeyword, "language_keys": pb.FieldType_FieldTypeKeyword,
		"published": pb.FieldType_FieldTypeDatetime, "crawled": pb.FieldType_FieldTypeDatetime,
		"n_chunks": pb.FieldType_FieldTypeInteger, "body_field": pb.FieldType_FieldTypeKeyword,
	}
	for _, f := range store.Fields() {
		want["terms_"+f] = pb.FieldType_FieldTypeText
	}
	for f, typ := range want {
		if indexes[f] != typ {
			t.Errorf("payload index %s: %v, want %v", f, indexes[f], typ)
		}
	}
	alias := srv.Requests("Collections/UpdateAliases")
	if len(alias) != 1 || alias[0].Message.(*pb.ChangeAliases).GetActions()[0].GetCreateAlias().GetAliasName() != "docs" {
		t.Errorf("alias requests %v", alias)
	}
}

// TestHybridRequest checks the one-round-trip hybrid query: two filtered
// prefetches (sparse BM25, dense MaxSim) and a weighted RRF.
func TestHybridRequest(t *testing.T) {
	s, srv := openDouble(t, qdrant.Options{Vectors: space})
	ctx := context.Background()
	doc := cari.Document{ID: "x", Title: "Zebra", Text: "Zebra herds zebra.", Domain: "example.com", Language: "en", Crawled: time.Now()}
	if err := s.Upsert(ctx, []store.Entry{{Doc: doc, Chunks: []cari.Chunk{{End: len(doc.Text)}}, Vectors: [][]float32{{1, 0, 0, 0}}}}); err != nil {
		t.Fatal(err)
	}
	up := srv.Requests("Points/Upsert")[0].Message.(*pb.UpsertPoints)
	if !up.GetWait() || len(up.GetPoints()) != 1 {
		t.Fatalf("upsert %v: want one point, wait", up)
	}
	vs := up.GetPoints()[0].GetVectors().GetVectors().GetVectors()
	sv := vs["bm25"].GetSparse()
	if f := up.GetPoints()[0].GetPayload()["body_field"].GetStringValue(); f != "body" {
		t.Errorf("body field %q, want body (English)", f)
	}
	// Title and text say "zebra" three times and "herd" once: two terms.
	if len(sv.GetIndices()) != 2 || !slices.IsSorted(sv.GetIndices()) || sv.GetValues()[0] <= 0 {
		t.Errorf("sparse vector %v: want two sorted dimensions with positive weights", sv)
	}
	if len(vs["dense"].GetMultiDense().GetVectors()) != 1 || len(vs["dense_mean"].GetDense().GetData()) != 4 {
		t.Errorf("dense %v, mean %v: want a multivector of one passage and its mean", vs["dense"], vs["dense_mean"])
	}
	hits, err := s.SearchHybrid(ctx, qdrant.HybridQuery{Text: "zebra", Vector: []float32{1, 0, 0, 0}, Limit: 5, Candidates: 50, RRFK: 60, Alpha: 0.25,
		Filter: store.Filter{IncludeDomains: []string{"example.com"}, IncludeText: []string{"zebra herds"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].ID != "x" {
		t.Errorf("hybrid hits %v, want x", hits)
	}
	qs := srv.Requests("Points/Query")
	q := qs[len(qs)-1].Message.(*pb.QueryPoints)
	rrf := q.GetQuery().GetRrf()
	// Qdrant's k is one more than Cari's for the same first-place score;
	// weights scaled so that equal sides weigh 1.
	if rrf.GetK() != 61 || !slices.Equal(rrf.GetWeights(), []float32{1.5, 0.5}) {
		t.Errorf("fusion %v, want RRF k=61 weights [1.5 0.5]", q.GetQuery())
	}
	if len(q.GetPrefetch()) != 2 || q.GetPrefetch()[1].GetUsing() != "dense" {
		t.Fatalf("prefetch %v, want the keyword side then dense", q.GetPrefetch())
	}
	// "zebra" alone is too short to tell its language: the keyword side
	// searches every body field, each with the query analysed as that
	// field analyses it, against that field's documents; each document's
	// score comes from the one it is in (a sum with zero defaults).
	kw := q.GetPrefetch()[0]
	sum := kw.GetQuery().GetFormula().GetExpression().GetSum().GetSum()
	if len(kw.GetPrefetch()) != len(store.Fields()) || len(sum) != len(store.Fields()) || kw.GetLimit() != 50 {
		t.Fatalf("keyword side %v: want a sum over one prefetch per body field", kw)
	}
	for i, p := range kw.GetPrefetch() {
		v := fmt.Sprintf("$score[%d]", i)
		if p.GetUsing() != "bm25" || sum[i].GetVariable() != v || kw.GetQuery().GetFormula().GetDefaults()[v].GetDoubleValue() != 0 {
			t.Errorf("field %d: prefetch on %s, term %v", i, p.GetUsing(), sum[i])
		}
		must := p.GetFilter().GetMust()
		if p.GetLimit() != 50 || len(must) != 2 || must[0].GetField().GetKey() != "body_field" || must[0].GetField().GetMatch().GetKeyword() != store.Fields()[i] ||
			len(must[1].GetFilter().GetMust()) != 2 || p.GetQuery().GetNearest().GetSparse() == nil {
			t.Errorf("prefetch %d: limit %d, filter %v; want 50 candidates of a sparse query in field %s under both conditions", i, p.GetLimit(), p.GetFilter(), store.Fields()[i])
		}
	}
	if p := q.GetPrefetch()[1]; p.GetLimit() != 50 || len(p.GetFilter().GetMust()) != 2 {
		t.Errorf("dense side: limit %d, filter %v; want 50 candidates under both conditions", p.GetLimit(), p.GetFilter())
	}
	// The dense side: MaxSim over the mean vectors' candidates, four per
	// document wanted.
	dense := q.GetPrefetch()[1]
	if dense.GetQuery().GetNearest().GetMultiDense() == nil || len(dense.GetPrefetch()) != 1 {
		t.Fatalf("dense side %v: want a MaxSim query over one candidate prefetch", dense)
	}
	if c := dense.GetPrefetch()[0]; c.GetUsing() != "dense_mean" || c.GetLimit() != 200 || c.GetQuery().GetNearest().GetDense() == nil || len(c.GetFilter().GetMust()) != 2 {
		t.Errorf("candidates %v: want 200 nearest mean vectors under the filter", c)
	}
	must := q.GetFilter().GetMust()
	if must[0].GetField().GetKey() != "domain_keys" || must[0].GetField().GetMatch().GetKeywords().GetStrings()[0] != "example.com" {
		t.Errorf("domain condition %v", must[0])
	}
	// The phrase, analysed as each body field analyses it, in any field.
	phrase := must[1].GetFilter().GetShould()
	if len(phrase) != len(store.Fields()) || phrase[0].GetField().GetKey() != "terms_body" || phrase[0].GetField().GetMatch().GetPhrase() != "zebra herd" {
		t.Errorf("phrase condition %v, want \"zebra herd\" (English, stemmed) among one per field", must[1])
	}
	if _, err := s.SearchHybrid(ctx, qdrant.HybridQuery{Text: "zebra", Vector: []float32{1, 0, 0, 0}, Limit: 5, Fusion: qdrant.FusionDBSF}); err != nil {
		t.Errorf("dbsf: %v", err)
	}
	qs = srv.Requests("Points/Query")
	if f := qs[len(qs)-1].Message.(*pb.QueryPoints).GetQuery().GetFusion(); f != pb.Fusion_DBSF {
		t.Errorf("fusion %v, want DBSF", f)
	}
}

// TestAPIKeyAndAliasSwap checks that the key is sent, and that a new
// generation serves through the alias once promoted.
func TestAPIKeyAndAliasSwap(t *testing.T) {
	s, srv := openDouble(t, qdrant.Options{Vectors: space, APIKey: "secret"})
	ctx := context.Background()
	if _, err := qdrant.Open(ctx, qdrant.Options{Addr: "127.0.0.1:1", Vectors: space}); err == nil {
		t.Error("open without a server succeeded")
	}
	g, err := s.NewGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	doc := cari.Document{ID: "n", Title: "New generation", Text: "Only in the new one.", Crawled: time.Now()}
	if err := g.Upsert(ctx, []store.Entry{{Doc: doc, Chunks: []cari.Chunk{{End: len(doc.Text)}}, Vectors: [][]float32{{0, 1, 0, 0}}}}); err != nil {
		t.Fatal(err)
	}
	if hits, _ := s.SearchKeyword(ctx, store.KeywordQuery{Text: "generation", Limit: 3}); len(hits) != 0 {
		t.Errorf("serving store sees the unpromoted generation: %v", hits)
	}
	old, err := g.Promote(ctx)
	if err != nil || old != s.Collection() {
		t.Fatalf("promote: %q, %v; want the old collection %s", old, err, s.Collection())
	}
	if hits, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: "generation", Limit: 3}); err != nil || len(hits) != 1 {
		t.Errorf("after the swap the serving store finds %v, %v; want the new generation's document", hits, err)
	}
	if err := s.DropCollection(ctx, g.Collection()); err == nil {
		t.Error("dropping the serving collection was allowed")
	}
	if err := s.DropCollection(ctx, old); err != nil {
		t.Error(err)
	}
	if name, err := g.Snapshot(ctx); err != nil || name == "" {
		t.Errorf("snapshot: %q, %v", name, err)
	}
	if len(srv.Requests("")) == 0 {
		t.Fatal("no requests recorded")
	}
	if _, err := qdrant.Open(ctx, qdrant.Options{Addr: srv.Addr(), APIKey: "wrong", Vectors: space}); err == nil {
		t.Error("a wrong API key was accepted")
	}
}
