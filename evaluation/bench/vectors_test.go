package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local/hnsw/vectorset"
)

// exactIndex is an Index whose vector search ranks documents by their best
// passage exactly; its keyword search is never called.
type exactIndex struct {
	docs map[string][][]float32
}

func (x *exactIndex) Upsert(_ context.Context, entries []store.Entry) error {
	for _, e := range entries {
		x.docs[e.Doc.ID] = e.Vectors
	}
	return nil
}

func (x *exactIndex) SearchKeyword(context.Context, store.KeywordQuery) ([]store.Hit, error) {
	return nil, nil
}

func (x *exactIndex) SearchVector(_ context.Context, q store.VectorQuery) ([]store.Hit, error) {
	var hits []store.Hit
	for id, vecs := range x.docs {
		best := -2.0
		for _, v := range vecs {
			var dot float64
			for i := range v {
				dot += float64(v[i] * q.Vector[i])
			}
			best = max(best, dot)
		}
		hits = append(hits, store.Hit{ID: id, Score: best})
	}
	slices.SortFunc(hits, func(a, b store.Hit) int {
		if a.Score > b.Score {
			return -1
		}
		return 1
	})
	return hits[:min(q.Limit, len(hits))], nil
}

// fixedEmbedder gives each query text the vector of its number.
type fixedEmbedder map[string][]float32

func (e fixedEmbedder) EmbedQuery(_ context.Context, text string) ([]float32, error) {
	return e[text], nil
}

func TestVectorRecallWritesTheVectorFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vectors.ann")
	idx := &exactIndex{docs: map[string][][]float32{}}
	tee, err := NewVectorTee(idx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer tee.Abort()
	var entries []store.Entry
	for d := range 15 {
		// Unit vectors around the circle, two passages a document.
		a, b := unit(float64(2*d)), unit(float64(2*d+1))
		entries = append(entries, store.Entry{Doc: cari.Document{ID: fmt.Sprintf("d%d", d)}, Vectors: [][]float32{a, b}})
	}
	if err := tee.Upsert(ctx, entries); err != nil {
		t.Fatal(err)
	}
	if err := tee.Finish(); err != nil {
		t.Fatal(err)
	}
	emb := fixedEmbedder{"q1": unit(3), "q2": unit(20)}
	run := &Run{Index: idx, Embedder: emb, Texts: []string{"q1", "q2"}}
	r, err := run.VectorRecall(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if r != 1 {
		t.Errorf("recall of an exact index %v, want 1", r)
	}
	set, err := vectorset.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 30 || set.NumQueries() != 2 || set.Dim != 2 || set.K != RecallK {
		t.Errorf("vector file: %d vectors, %d queries, %d dimensions, top %d", set.Len(), set.NumQueries(), set.Dim, set.K)
	}
	if set.TrueIDs[0] != 3 {
		t.Errorf("query 1's nearest passage %d, want 3 (its own vector)", set.TrueIDs[0])
	}
	if _, err := os.Stat(path + ".base"); err == nil {
		t.Error("the raw vector file was left behind")
	}
	// A later run reads the vector file itself.
	if r, err := (&Run{Index: idx, Embedder: emb, Texts: []string{"q1", "q2"}}).VectorRecall(ctx, path); err != nil || r != 1 {
		t.Errorf("second run: recall %v, %v", r, err)
	}
}

// unit is the unit vector at angle step*0.2 radians.
func unit(step float64) []float32 {
	return []float32{float32(math.Cos(step * 0.2)), float32(math.Sin(step * 0.2))}
}
