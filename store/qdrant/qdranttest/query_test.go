package qdranttest

import (
	"context"
	"math"
	"testing"

	"github.com/qdrant/go-client/qdrant"
)

// The double's scoring, checked against values worked out by hand.

func newCollection(t *testing.T) (*Server, pointsAPI) {
	t.Helper()
	s := New()
	c := collectionsAPI{Server: s}
	_, err := c.Create(context.Background(), &qdrant.CreateCollection{
		CollectionName: "c",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"d": {Size: 2, Distance: qdrant.Distance_Cosine},
			"m": {Size: 2, Distance: qdrant.Distance_Cosine, MultivectorConfig: &qdrant.MultiVectorConfig{Comparator: qdrant.MultiVectorComparator_MaxSim}},
		}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"s": {Modifier: qdrant.Modifier_Idf.Enum()}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	p := pointsAPI{Server: s}
	pts := []*qdrant.PointStruct{
		{Id: qdrant.NewIDNum(1), Payload: qdrant.NewValueMap(map[string]any{"tag": []any{"x", "y"}, "at": "2024-01-01T00:00:00Z"}),
			Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
				"d": qdrant.NewVectorDense([]float32{1, 0}), "m": qdrant.NewVectorMulti([][]float32{{1, 0}, {0, 1}}),
				"s": qdrant.NewVectorSparse([]uint32{7, 9}, []float32{2, 1})})},
		{Id: qdrant.NewIDNum(2), Payload: qdrant.NewValueMap(map[string]any{"tag": "y", "at": "2025-06-01T00:00:00Z"}),
			Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
				"d": qdrant.NewVectorDense([]float32{3, 4}), "m": qdrant.NewVectorMulti([][]float32{{3, 4}}),
				"s": qdrant.NewVectorSparse([]uint32{9}, []float32{4})})},
		{Id: qdrant.NewIDNum(3), Payload: qdrant.NewValueMap(map[string]any{"tag": "z"}),
			Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"d": qdrant.NewVectorDense([]float32{0, 1})})},
	}
	if _, err := p.Upsert(context.Background(), &qdrant.UpsertPoints{CollectionName: "c", Points: pts}); err != nil {
		t.Fatal(err)
	}
	return s, p
}

func scores(t *testing.T, p pointsAPI, q *qdrant.QueryPoints) map[uint64]float64 {
	t.Helper()
	q.CollectionName = "c"
	res, err := p.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64]float64{}
	for _, r := range res.GetResult() {
		out[r.GetId().GetNum()] = float64(r.GetScore())
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-5 }

func TestSparseIDF(t *testing.T) {
	_, p := newCollection(t)
	// Two points have the sparse vector; index 7 is in one (idf
	// ln(1+1.5/1.5) = ln 2), index 9 in both (ln(1+0.5/2.5) = ln 1.2).
	got := scores(t, p, &qdrant.QueryPoints{Query: qdrant.NewQuerySparse([]uint32{7, 9}, []float32{1, 2}), Using: qdrant.PtrOf("s")})
	want := map[uint64]float64{1: 1*2*math.Log(2) + 2*1*math.Log(1.2), 2: 2 * 4 * math.Log(1.2)}
	if len(got) != 2 || !near(got[1], want[1]) || !near(got[2], want[2]) {
		t.Errorf("sparse scores %v, want %v", got, want)
	}
}

func TestCosineAndMaxSim(t *testing.T) {
	_, p := newCollection(t)
	got := scores(t, p, &qdrant.QueryPoints{Query: qdrant.NewQueryDense([]float32{2, 0}), Using: qdrant.PtrOf("d")})
	if !near(got[1], 1) || !near(got[2], 0.6) || !near(got[3], 0) {
		t.Errorf("cosine %v, want 1, 0.6, 0", got)
	}
	// MaxSim of one query vector: the best of the point's vectors.
	got = scores(t, p, &qdrant.QueryPoints{Query: qdrant.NewQueryMulti([][]float32{{0, 5}}), Using: qdrant.PtrOf("m")})
	if !near(got[1], 1) || !near(got[2], 0.8) || len(got) != 2 {
		t.Errorf("MaxSim %v, want 1 and 0.8", got)
	}
}

func TestFusion(t *testing.T) {
	_, p := newCollection(t)
	dense := &qdrant.PrefetchQuery{Query: qdrant.NewQueryDense([]float32{1, 0}), Using: qdrant.PtrOf("d")}             // 1, 2, 3
	sparse := &qdrant.PrefetchQuery{Query: qdrant.NewQuerySparse([]uint32{9}, []float32{1}), Using: qdrant.PtrOf("s")} // 2, 1
	k := uint32(10)
	got := scores(t, p, &qdrant.QueryPoints{Prefetch: []*qdrant.PrefetchQuery{dense, sparse}, Query: qdrant.NewQueryRRF(&qdrant.Rrf{K: &k, Weights: []float32{1, 3}})})
	// Qdrant's weighted RRF: 1 / ((pos+1)/w + k - 1), pos from 0.
	want := map[uint64]float64{1: 1.0/10 + 1/(2.0/3+9), 2: 1.0/11 + 1/(1.0/3+9), 3: 1.0 / 12}
	for id, w := range want {
		if !near(got[id], w) {
			t.Errorf("RRF: point %d scored %v, want %v", id, got[id], w)
		}
	}
	// DBSF: each list's scores mapped from mean ± 3 sample sd to [0, 1],
	// summed. The sparse list: 2 scores 4 ln 1.2, 1 scores ln 1.2: mean
	// 2.5 ln 1.2, sample sd 1.5 √2 ln 1.2, so 0.5 ± 1/(6√2).
	got = scores(t, p, &qdrant.QueryPoints{Prefetch: []*qdrant.PrefetchQuery{sparse}, Query: qdrant.NewQueryFusion(qdrant.Fusion_DBSF)})
	if d := 1 / (6 * math.Sqrt2); !near(got[2], 0.5+d) || !near(got[1], 0.5-d) {
		t.Errorf("DBSF %v, want 0.5 ± %v", got, d)
	}
}

func numbered(ids ...uint64) []scored {
	out := make([]scored, len(ids))
	for i, id := range ids {
		out[i] = scored{p: &point{id: qdrant.NewIDNum(id)}}
	}
	return out
}

func byID(res []scored) map[uint64]float64 {
	out := map[uint64]float64{}
	for _, r := range res {
		out[r.p.id.GetNum()] = r.score
	}
	return out
}

// TestRRFAsQdrant replays the cases of Qdrant's own tests
// (lib/segment/src/common/reciprocal_rank_fusion.rs at 037600e8:
// test_rrf_scoring, test_rrf_scoring_zero_weight).
func TestRRFAsQdrant(t *testing.T) {
	got := byID(rrf([][]scored{numbered(2, 1), numbered(1, 2, 3), numbered(5, 3, 1)}, 2, nil))
	for id, want := range map[uint64]float64{1: 1.0833334, 2: 0.8333334, 3: 0.5833334, 5: 0.5} {
		if !near(got[id], want) {
			t.Errorf("point %d: %v, want %v", id, got[id], want)
		}
	}
	got = byID(rrf([][]scored{numbered(1), numbered(2)}, 2, []float32{1, 0}))
	if got[1] != 0.5 || got[2] != 0 || len(got) != 2 {
		t.Errorf("zero weight: %v, want 1 at 0.5 and 2 at 0", got)
	}
}

// TestDBSFDoesNotClamp: Qdrant maps scores onto [0, 1] by mean ± 3 sample
// standard deviations without clamping (score_fusion.rs at 10ef9eef,
// norm), so a far outlier lands above 1; a single point is 0.5.
func TestDBSFDoesNotClamp(t *testing.T) {
	l := numbered(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	l[10].score = 1 // ten zeros and a one: z = (10/11) / sqrt(1/11) > 3
	got := distrNorm(l)
	if want := 0.5 + (10.0/11)/math.Sqrt(1.0/11)/6; !near(got[10], want) || got[10] <= 1 {
		t.Errorf("outlier normalised to %v, want %v (above 1)", got[10], want)
	}
	if got := distrNorm(numbered(1)); got[0] != 0.5 {
		t.Errorf("single point normalised to %v, want 0.5", got[0])
	}
}

// TestIDFPerShard: Qdrant computes the IDF modifier over the points of
// each shard (lib/shard/src/query/query_context.rs), so with two shards a
// term's weight depends on the shard its document is in.
func TestIDFPerShard(t *testing.T) {
	s := New()
	c := collectionsAPI{Server: s}
	shards := uint32(2)
	if _, err := c.Create(context.Background(), &qdrant.CreateCollection{CollectionName: "c", ShardNumber: &shards,
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"s": {Modifier: qdrant.Modifier_Idf.Enum()}})}); err != nil {
		t.Fatal(err)
	}
	var pts []*qdrant.PointStruct
	for id := uint64(1); id <= 12; id++ {
		// Every third point has term 7; every point has term 9.
		idx, val := []uint32{9}, []float32{1}
		if id%3 == 0 {
			idx, val = []uint32{7, 9}, []float32{1, 1}
		}
		pts = append(pts, &qdrant.PointStruct{Id: qdrant.NewIDNum(id),
			Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"s": qdrant.NewVectorSparse(idx, val)})})
	}
	p := pointsAPI{Server: s}
	if _, err := p.Upsert(context.Background(), &qdrant.UpsertPoints{CollectionName: "c", Points: pts}); err != nil {
		t.Fatal(err)
	}
	coll := s.collections["c"]
	var n, df [2]float64
	for _, pt := range coll.points {
		sh := coll.shardOf(pt)
		n[sh]++
		if _, ok := pt.sparse["s"][7]; ok {
			df[sh]++
		}
	}
	idf := func(sh int) float64 { return math.Log(1 + (n[sh]-df[sh]+0.5)/(df[sh]+0.5)) }
	if n[0] == 0 || n[1] == 0 || near(idf(0), idf(1)) {
		t.Fatalf("shards hold %v points, %v with the term: the test needs two shards that differ", n, df)
	}
	got := scores(t, p, &qdrant.QueryPoints{Query: qdrant.NewQuerySparse([]uint32{7}, []float32{1}), Using: qdrant.PtrOf("s")})
	if len(got) != 4 {
		t.Fatalf("%d points found, want the 4 with the term", len(got))
	}
	for id, score := range got {
		sh := coll.shardOf(coll.points[pointKey(qdrant.NewIDNum(id))])
		if !near(score, idf(sh)) {
			t.Errorf("point %d (shard %d): %v, want its shard's IDF %v", id, sh, score, idf(sh))
		}
	}
}

// TestAliasesKeepWhatRanBeforeAFailure: Qdrant runs alias actions in order
// and keeps those before a failing one (collection_meta_ops.rs,
// update_aliases).
func TestAliasesKeepWhatRanBeforeAFailure(t *testing.T) {
	s, _ := newCollection(t)
	c := collectionsAPI{Server: s}
	ctx := context.Background()
	if _, err := c.UpdateAliases(ctx, &qdrant.ChangeAliases{Actions: []*qdrant.AliasOperations{qdrant.NewAliasCreate("live", "c")}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.UpdateAliases(ctx, &qdrant.ChangeAliases{Actions: []*qdrant.AliasOperations{
		qdrant.NewAliasDelete("live"), qdrant.NewAliasCreate("live", "missing")}})
	if err == nil {
		t.Fatal("an alias to a missing collection was accepted")
	}
	if _, ok := s.aliases["live"]; ok {
		t.Errorf("aliases %v: the delete before the failing create should stay done", s.aliases)
	}
}

func TestFilters(t *testing.T) {
	_, p := newCollection(t)
	for _, tc := range []struct {
		name string
		f    *qdrant.Filter
		want []uint64
	}{
		{"keywords any of a list", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchKeywords("tag", "x", "z")}}, []uint64{1, 3}},
		{"must not", &qdrant.Filter{MustNot: []*qdrant.Condition{qdrant.NewMatchKeyword("tag", "y")}}, []uint64{3}},
		{"should", &qdrant.Filter{Should: []*qdrant.Condition{qdrant.NewMatchKeyword("tag", "z"), qdrant.NewHasID(qdrant.NewIDNum(2))}}, []uint64{2, 3}},
		{"datetime; missing never matches", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewDatetimeRange("at", &qdrant.DatetimeRange{})}}, []uint64{1, 2}},
		// except is tested value by value: [x y] has y, which is not x.
		{"except: any value outside the list", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchExcept("tag", "x")}}, []uint64{1, 2, 3}},
		{"except y", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchExcept("tag", "y")}}, []uint64{1, 3}},
		{"except; missing never matches", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchExcept("at", "2024-01-01T00:00:00Z")}}, []uint64{2}},
	} {
		res, err := p.Scroll(context.Background(), &qdrant.ScrollPoints{CollectionName: "c", Filter: tc.f})
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, r := range res.GetResult() {
			got = append(got, r.GetId().GetNum())
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
	}
	if !containsRun([]string{"a", "·", "b", "c"}, []string{"·", "b"}) || containsRun([]string{"a", "b"}, []string{"b", "a"}) {
		t.Error("phrase runs")
	}
}

func TestUpsertRefusesWhatQdrantRefuses(t *testing.T) {
	_, p := newCollection(t)
	for name, v := range map[string]*qdrant.Vectors{
		"wrong dimension":  qdrant.NewVectorsMap(map[string]*qdrant.Vector{"d": qdrant.NewVectorDense([]float32{1, 2, 3})}),
		"unknown name":     qdrant.NewVectorsMap(map[string]*qdrant.Vector{"nope": qdrant.NewVectorDense([]float32{1, 2})}),
		"repeated index":   qdrant.NewVectorsMap(map[string]*qdrant.Vector{"s": qdrant.NewVectorSparse([]uint32{1, 1}, []float32{1, 2})}),
		"dense for sparse": qdrant.NewVectorsMap(map[string]*qdrant.Vector{"s": qdrant.NewVectorDense([]float32{1, 2})}),
	} {
		_, err := p.Upsert(context.Background(), &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{
			{Id: qdrant.NewIDNum(9), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"d": qdrant.NewVectorDense([]float32{1, 0})})},
			{Id: qdrant.NewIDNum(10), Vectors: v},
		}})
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A refused request writes nothing.
	res, err := p.Get(context.Background(), &qdrant.GetPoints{CollectionName: "c", Ids: []*qdrant.PointId{qdrant.NewIDNum(9)}})
	if err != nil || len(res.GetResult()) != 0 {
		t.Errorf("refused upserts left %v, %v", res.GetResult(), err)
	}
}
