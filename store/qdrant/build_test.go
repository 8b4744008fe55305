package qdrant_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/qdrant"
	"github.com/cari-search/cari/store/qdrant/qdranttest"
)

func entry(id, text string, vec []float32) store.Entry {
	d := cari.Document{ID: id, Title: id, Text: text, Crawled: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	return store.Entry{Doc: d, Chunks: []cari.Chunk{{End: len(text)}}, Vectors: [][]float32{vec}}
}

func keywordIDs(t *testing.T, s store.Store, q string) []string {
	t.Helper()
	hits, err := s.SearchKeyword(context.Background(), store.KeywordQuery{Text: q, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	slices.Sort(out)
	return out
}

// TestBuildAndSwap runs a reindex's life on the double: build beside the
// serving generation while writes reach both, resume after a stop, swap.
func TestBuildAndSwap(t *testing.T) {
	_, addr := qdranttest.Start(t, "")
	ctx := context.Background()
	open := func(opts qdrant.Options) *qdrant.Store {
		opts.Addr = addr
		s, err := qdrant.Open(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := open(qdrant.Options{Vectors: space})
	old := s.Collection()
	if err := s.Upsert(ctx, []store.Entry{entry("a", "apple orchard", []float32{1, 0, 0, 0}), entry("b", "banana grove", []float32{0, 1, 0, 0})}); err != nil {
		t.Fatal(err)
	}
	b, err := s.BeginBuild("corpus:fruit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if b.Resumed() || b.Name() == old {
		t.Fatalf("new build %s resumed=%v", b.Name(), b.Resumed())
	}
	if err := b.Commit(ctx, []store.Entry{entry("a", "apple cider", []float32{1, 0, 0, 0})}, 7); err != nil {
		t.Fatal(err)
	}
	// A write during the build, from another process, reaches both.
	other := open(qdrant.Options{Vectors: space})
	if err := other.Upsert(ctx, []store.Entry{entry("c", "cherry cider", []float32{0, 0, 1, 0})}); err != nil {
		t.Fatal(err)
	}
	if got := keywordIDs(t, s, "cider"); !slices.Equal(got, []string{"c"}) {
		t.Errorf("serving generation before the swap finds %v for cider, want [c]", got)
	}
	// The job stops and starts again: the same source resumes.
	again, err := other.BeginBuild("corpus:fruit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	pos, err := again.Position()
	if !again.Resumed() || again.Name() != b.Name() || pos != 7 || err != nil {
		t.Fatalf("resumed %v %s at %d (%v), want %s at 7", again.Resumed(), again.Name(), pos, err, b.Name())
	}
	if err := again.Swap(ctx); err != nil {
		t.Fatal(err)
	}
	if got := keywordIDs(t, s, "cider"); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("after the swap the serving alias finds %v for cider, want [a c]", got)
	}
	if got := keywordIDs(t, s, "banana"); len(got) != 0 {
		t.Errorf("a document the reindex did not write is still served: %v", got)
	}
	if other.Collection() != b.Name() {
		t.Errorf("the swapping store reads %s, want %s", other.Collection(), b.Name())
	}
	// GC keeps the newest replaced generation for rollback, here the only
	// one; with none to keep it drops it and nothing that serves.
	for _, keep := range []int{1, -1} {
		if dropped, err := s.GC(keep); err != nil || len(dropped) != 0 {
			t.Errorf("GC(%d) dropped %v, %v", keep, dropped, err)
		}
	}
	if dropped, err := s.GC(0); err != nil || !slices.Equal(dropped, []string{old}) {
		t.Errorf("GC(0) dropped %v, %v; want [%s]", dropped, err, old)
	}
	if got := keywordIDs(t, s, "cider"); len(got) != 2 {
		t.Errorf("GC dropped the serving generation: %v", got)
	}

	// Another source discards an unfinished build.
	first, err := s.BeginBuild("dir:/a")
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.BeginBuild("dir:/b")
	if err != nil {
		t.Fatal(err)
	}
	if second.Resumed() || second.Name() == first.Name() {
		t.Errorf("a build from another source resumed %s", first.Name())
	}
	if err := s.DropCollection(ctx, first.Name()); err == nil {
		t.Errorf("the discarded build %s still exists", first.Name())
	}
	if err := second.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(ctx, []store.Entry{entry("d", "date palm", []float32{0, 0, 0, 1})}); err != nil {
		t.Errorf("write after an abort: %v", err)
	}
}

// TestRebuildWithAnotherModel opens a generation of another embedding
// model for a rebuild: readable, not searchable by vector, writable only
// into the new generation.
func TestRebuildWithAnotherModel(t *testing.T) {
	_, addr := qdranttest.Start(t, "")
	ctx := context.Background()
	s, err := qdrant.Open(ctx, qdrant.Options{Addr: addr, Vectors: space})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Upsert(ctx, []store.Entry{entry("a", "apple orchard", []float32{1, 0, 0, 0})}); err != nil {
		t.Fatal(err)
	}
	next := store.VectorSpace{Model: "other/2", Dim: 2}
	if _, err := qdrant.Open(ctx, qdrant.Options{Addr: addr, Vectors: next}); err == nil {
		t.Fatal("opened a generation of another model without Rebuild")
	}
	r, err := qdrant.Open(ctx, qdrant.Options{Addr: addr, Vectors: next, Rebuild: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if docs, err := r.Documents(ctx, []string{"a"}); err != nil || docs["a"].Text != "apple orchard" {
		t.Errorf("documents of the old generation: %v, %v", docs, err)
	}
	if _, err := r.SearchVector(ctx, store.VectorQuery{Vector: []float32{1, 0}, Limit: 3}); !errors.Is(err, qdrant.ErrNoVectors) {
		t.Errorf("vector search across models: %v, want ErrNoVectors", err)
	}
	two := store.Entry{Doc: cari.Document{ID: "b", Text: "banana", Crawled: time.Now()}, Chunks: []cari.Chunk{{End: 6}}, Vectors: [][]float32{{0, 1}}}
	if err := r.Upsert(ctx, []store.Entry{two}); err == nil {
		t.Error("wrote vectors of another model into the old generation")
	}
	b, err := r.BeginBuild("stored:" + r.Collection())
	if err != nil {
		t.Fatal(err)
	}
	ids, err := r.DocumentIDs(ctx)
	if err != nil || !slices.Equal(ids, []string{"a"}) {
		t.Fatalf("document IDs %v, %v", ids, err)
	}
	a := store.Entry{Doc: cari.Document{ID: "a", Text: "apple orchard", Crawled: time.Now()}, Chunks: []cari.Chunk{{End: 13}}, Vectors: [][]float32{{1, 0}}}
	if err := b.Commit(ctx, []store.Entry{a}, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Upsert(ctx, []store.Entry{two}); err != nil {
		t.Errorf("write during the rebuild: %v", err)
	}
	if err := b.Swap(ctx); err != nil {
		t.Fatal(err)
	}
	hits, err := r.SearchVector(ctx, store.VectorQuery{Vector: []float32{0, 1}, Limit: 3})
	if err != nil || len(hits) != 2 || hits[0].ID != "b" {
		t.Errorf("after the swap: %v, %v; want b then a, in the new model's space", hits, err)
	}
}

// TestPinAndFollow checks two replicas across a swap made by one of them:
// a search pinned before the swap reads the old generation to its end, and
// the other replica follows the new one (its statistics, its writes).
func TestPinAndFollow(t *testing.T) {
	_, addr := qdranttest.Start(t, "")
	ctx := context.Background()
	open := func() *qdrant.Store {
		s, err := qdrant.Open(ctx, qdrant.Options{Addr: addr, Vectors: space})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	if err := a.Upsert(ctx, []store.Entry{entry("old", "old orchard", []float32{1, 0, 0, 0})}); err != nil {
		t.Fatal(err)
	}
	pinned, release, err := a.Pin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	build, err := b.BeginBuild("corpus:new")
	if err != nil {
		t.Fatal(err)
	}
	if err := build.Commit(ctx, []store.Entry{entry("new", "new orchard", []float32{0, 1, 0, 0})}, 1); err != nil {
		t.Fatal(err)
	}
	if err := build.Swap(ctx); err != nil {
		t.Fatal(err)
	}
	hits, err := a.SearchKeyword(pinned, store.KeywordQuery{Text: "orchard", Limit: 5})
	if err != nil || len(hits) != 1 || hits[0].ID != "old" {
		t.Errorf("pinned search after the swap: %v, %v; want the old generation's document", hits, err)
	}
	if got := keywordIDs(t, a, "orchard"); !slices.Equal(got, []string{"new"}) {
		t.Errorf("unpinned search after the swap: %v, want the new generation's", got)
	}
	st, err := a.Stats(ctx)
	if err != nil || st.Generation != build.Name() || a.Collection() != build.Name() {
		t.Errorf("replica a after b's swap: stats %+v (%v), collection %s; want %s", st, err, a.Collection(), build.Name())
	}
}

// TestGenerations lists a reindex's generations on the double: the serving
// and the building one while it builds, the replaced one retired after the
// swap until GC drops it.
func TestGenerations(t *testing.T) {
	_, addr := qdranttest.Start(t, "")
	ctx := context.Background()
	s, err := qdrant.Open(ctx, qdrant.Options{Addr: addr, Vectors: space})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	old := s.Collection()
	if err := s.Upsert(ctx, []store.Entry{entry("a", "apple orchard", []float32{1, 0, 0, 0})}); err != nil {
		t.Fatal(err)
	}
	b, err := s.BeginBuild("corpus:fruit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx, []store.Entry{entry("a", "apple cider", []float32{1, 0, 0, 0}), entry("b", "banana bread", []float32{0, 1, 0, 0})}, 2); err != nil {
		t.Fatal(err)
	}
	type gen struct {
		name   string
		state  store.GenerationState
		docs   int64
		source string
	}
	list := func() []gen {
		t.Helper()
		gens, err := s.Generations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]gen, len(gens))
		for i, g := range gens {
			if g.Created.IsZero() || g.Vectors != space {
				t.Errorf("generation %+v: want its creation time and vector space", g)
			}
			out[i] = gen{g.Name, g.State, g.Documents, g.Source}
		}
		return out
	}
	building := []gen{{old, store.GenerationServing, 1, ""}, {b.Name(), store.GenerationBuilding, 2, "corpus:fruit.jsonl"}}
	if got := list(); !slices.Equal(got, building) {
		t.Errorf("while building: %v, want %v", got, building)
	}
	if err := b.Swap(ctx); err != nil {
		t.Fatal(err)
	}
	swapped := []gen{{old, store.GenerationRetired, 1, ""}, {b.Name(), store.GenerationServing, 2, "corpus:fruit.jsonl"}}
	if got := list(); !slices.Equal(got, swapped) {
		t.Errorf("after the swap: %v, want %v", got, swapped)
	}
	if _, err := s.GC(0); err != nil {
		t.Fatal(err)
	}
	if got := list(); !slices.Equal(got, swapped[1:]) {
		t.Errorf("after GC: %v, want %v", got, swapped[1:])
	}
}

// TestFailedSwapKeepsServing: Qdrant keeps the alias actions that ran
// before a failing one, so a swap whose new collection has gone must not
// have deleted the serving alias first.
func TestFailedSwapKeepsServing(t *testing.T) {
	s, _ := openDouble(t, qdrant.Options{Vectors: space})
	ctx := context.Background()
	if err := s.Upsert(ctx, []store.Entry{entry("a", "apple orchard", []float32{1, 0, 0, 0})}); err != nil {
		t.Fatal(err)
	}
	b, err := s.BeginBuild("corpus:fruit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DropCollection(ctx, b.Name()); err != nil {
		t.Fatal(err)
	}
	if err := b.Swap(ctx); err == nil {
		t.Fatal("swapped in a collection that is gone")
	}
	if got := keywordIDs(t, s, "apple"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("after a failed swap the serving alias finds %v, want [a]", got)
	}
}
