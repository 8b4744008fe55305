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
	want := map[uint64]float64{1: 1.0/11 + 3.0/12, 2: 1.0/12 + 3.0/11, 3: 1.0 / 13}
	for id, w := range want {
		if !near(got[id], w) {
			t.Errorf("RRF: point %d scored %v, want %v", id, got[id], w)
		}
	}
	// DBSF: each list's scores mapped from mean ± 3 sd to [0, 1], summed.
	got = scores(t, p, &qdrant.QueryPoints{Prefetch: []*qdrant.PrefetchQuery{sparse}, Query: qdrant.NewQueryFusion(qdrant.Fusion_DBSF)})
	// The sparse list: 2 scores 4 ln 1.2, 1 scores ln 1.2; mean 2.5 ln 1.2, sd 1.5 ln 1.2.
	if !near(got[2], (4-(2.5-4.5))/9) || !near(got[1], (1-(2.5-4.5))/9) {
		t.Errorf("DBSF %v", got)
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
