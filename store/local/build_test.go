package local

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

func mustBegin(t *testing.T, s *Store, source string) *Build {
	t.Helper()
	b, err := s.BeginBuild(source)
	if err != nil {
		t.Fatalf("BeginBuild(%q): %v", source, err)
	}
	return b
}

func mustCommit(t *testing.T, b *Build, pos int64, es ...store.Entry) {
	t.Helper()
	if err := b.Commit(context.Background(), es, pos); err != nil {
		t.Fatalf("Commit at %d: %v", pos, err)
	}
}

// titles loads documents and returns their titles by ID.
func titles(t *testing.T, ctx context.Context, s *Store, ids ...string) map[string]string {
	t.Helper()
	docs, err := s.Documents(ctx, ids)
	if err != nil {
		t.Fatalf("Documents: %v", err)
	}
	out := map[string]string{}
	for id, d := range docs {
		out[id] = d.Title
	}
	return out
}

func titled(id, title string) store.Entry {
	d := cari.Document{ID: id, Title: title, Text: "text of " + id}
	if err := d.Normalize(); err != nil {
		panic(err)
	}
	return entries(d)[0]
}

func TestBuildSwapsAndKeepsOldForRollback(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	if err := s.Upsert(ctx, []store.Entry{titled("a", "old a"), titled("gone", "old gone")}); err != nil {
		t.Fatal(err)
	}
	old := s.Generation().Name

	b := mustBegin(t, s, "test:one")
	mustCommit(t, b, 1, titled("a", "new a"))
	// A write while the build runs reaches both generations.
	if err := s.Upsert(ctx, []store.Entry{titled("w", "written meanwhile")}); err != nil {
		t.Fatal(err)
	}
	if got := titles(t, ctx, s, "a", "w", "gone"); got["a"] != "old a" || got["w"] != "written meanwhile" || got["gone"] != "old gone" {
		t.Fatalf("before the swap the old generation serves: %v", got)
	}
	if err := b.Swap(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Generation().Name != b.Name() {
		t.Fatalf("serving %s after the swap, want %s", s.Generation().Name, b.Name())
	}
	if cur, _ := readCurrent(s.Dir()); cur != b.Name() {
		t.Fatalf("CURRENT names %q, want %q", cur, b.Name())
	}
	got := titles(t, ctx, s, "a", "w", "gone")
	if want := map[string]string{"a": "new a", "w": "written meanwhile"}; !mapsEqual(got, want) {
		t.Fatalf("after the swap: %v, want %v", got, want)
	}

	gens, err := s.Generations(ctx)
	if err != nil || len(gens) != 2 {
		t.Fatalf("Generations: %+v, %v", gens, err)
	}
	// The old generation recorded its size as it stopped serving: a, gone
	// and the write w.
	if g := gens[0]; g.Name != old || g.State != store.GenerationRetired || g.Documents != 3 {
		t.Errorf("old generation listed as %+v", g)
	}
	if g := gens[1]; g.Name != b.Name() || g.State != store.GenerationServing || g.Documents != 2 || g.Source != "test:one" || g.SizeBytes == 0 {
		t.Errorf("new generation listed as %+v", g)
	}

	m, err := s.Rollback("")
	if err != nil || m.Name != old {
		t.Fatalf("Rollback: %v, %v; want %s", m.Name, err, old)
	}
	if got := titles(t, ctx, s, "a", "gone"); got["a"] != "old a" || got["gone"] != "old gone" {
		t.Fatalf("after rollback: %v", got)
	}
	if _, err := s.Rollback(""); !errors.Is(err, ErrNoRollback) {
		t.Fatalf("second Rollback: %v, want ErrNoRollback", err)
	}
	if _, err := s.Rollback(b.Name()); err != nil {
		t.Fatalf("Rollback to the new generation by name: %v", err)
	}
	removed, err := s.GC(0)
	if err != nil || !slices.Equal(removed, []string{old}) {
		t.Fatalf("GC(0) removed %v, %v; want [%s]", removed, err, old)
	}
	if _, err := os.Stat(generationPath(s.Dir(), old)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old generation directory still there: %v", err)
	}
	if got := titles(t, ctx, s, "a"); got["a"] != "new a" {
		t.Fatalf("after GC: %v", got)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestBuildResumesAfterReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	b := mustBegin(t, s, "test:resume")
	mustCommit(t, b, 2, vecEntry("a", "", []float32{1, 0, 0}), vecEntry("b", "", []float32{0, 1, 0}))
	if _, err := s.BeginBuild("test:other"); !errors.Is(err, store.ErrBuildRunning) {
		t.Fatalf("second BeginBuild: %v, want ErrBuildRunning", err)
	}
	name := b.Name()
	// No Swap and no Pause: the process dies here.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The unfinished generation receives writes before the job resumes.
	if err := s.Upsert(ctx, []store.Entry{vecEntry("w", "", []float32{0, 0, 1})}); err != nil {
		t.Fatal(err)
	}
	b = mustBegin(t, s, "test:resume")
	if !b.Resumed() || b.Name() != name {
		t.Fatalf("BeginBuild resumed=%v name=%s, want a resume of %s", b.Resumed(), b.Name(), name)
	}
	if pos, err := b.Position(); err != nil || pos != 2 {
		t.Fatalf("Position = %d, %v; want 2", pos, err)
	}
	mustCommit(t, b, 3, vecEntry("c", "", []float32{1, 1, 0}))
	if err := b.Swap(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Documents != 4 {
		t.Fatalf("Stats: %+v, %v; want 4 documents (a, b, c and the write w)", st, err)
	}
	hits, err := s.SearchVector(ctx, store.VectorQuery{Vector: []float32{0, 0, 1}, Limit: 1, Model: space3.Model})
	if err != nil || len(hits) != 1 || hits[0].ID != "w" {
		t.Fatalf("vector search after the swap: %v, %v; want w", hits, err)
	}
}

func TestBeginBuildDiscardsAnotherSourcesBuild(t *testing.T) {
	s := newStore(t, Options{})
	b := mustBegin(t, s, "test:first")
	mustCommit(t, b, 1, titled("a", "a"))
	b.Pause()
	first := b.Name()
	b = mustBegin(t, s, "test:second")
	if b.Resumed() || b.Name() == first {
		t.Fatalf("BeginBuild with another source resumed %s", b.Name())
	}
	if _, err := os.Stat(generationPath(s.Dir(), first)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the other source's generation is still there: %v", err)
	}
	if pos, _ := b.Position(); pos != 0 {
		t.Fatalf("new build at position %d", pos)
	}
	if err := b.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(generationPath(s.Dir(), b.Name())); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("aborted generation is still there: %v", err)
	}
}

// A search pinned before a swap reads the old generation to its end, and
// the old generation is closed only after the pin is released.
func TestPinnedSearchSpansSwap(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	if err := s.Upsert(ctx, []store.Entry{titled("a", "old")}); err != nil {
		t.Fatal(err)
	}
	pinned, release, err := s.Pin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := mustBegin(t, s, "test:pin")
	mustCommit(t, b, 1, titled("a", "new"))
	if err := b.Swap(ctx); err != nil {
		t.Fatal(err)
	}
	if got := titles(t, pinned, s, "a")["a"]; got != "old" {
		t.Fatalf("pinned read after the swap: %q, want old", got)
	}
	if got := titles(t, ctx, s, "a")["a"]; got != "new" {
		t.Fatalf("unpinned read after the swap: %q, want new", got)
	}
	release()
	s.retired.Wait() // the old generation closes once unpinned
}

func TestModelChangeNeedsRebuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(ctx, []store.Entry{vecEntry("a", "", []float32{1, 0, 0})}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SearchVector(ctx, store.VectorQuery{Vector: []float32{1, 0, 0}, Limit: 1, Model: "test/other@2"})
	if !errors.Is(err, store.ErrModelMismatch) || !strings.Contains(err.Error(), "test/other@2") {
		t.Fatalf("query from another model: %v, want ErrModelMismatch naming it", err)
	}
	if _, err = s.SearchVector(ctx, store.VectorQuery{Vector: []float32{1, 0}, Limit: 1}); !errors.Is(err, store.ErrModelMismatch) {
		t.Fatalf("query of 2 dimensions: %v, want ErrModelMismatch", err)
	}
	s.Close()

	other := VectorSpace{Model: "test/other@2", Dim: 2}
	if _, err := Open(dir, Options{Vectors: other}); err == nil || !strings.Contains(err.Error(), "cari reindex") {
		t.Fatalf("Open with another model: %v, want an error saying to reindex", err)
	}
	s, err = Open(dir, Options{Vectors: other, Rebuild: true})
	if err != nil {
		t.Fatalf("Open with Rebuild: %v", err)
	}
	defer s.Close()
	if err := s.Upsert(ctx, []store.Entry{vecEntry("x", "", []float32{1, 0})}); err == nil {
		t.Fatal("the stale generation took a write")
	}
	if got := titles(t, ctx, s, "a"); len(got) != 1 {
		t.Fatalf("the stale generation's documents must stay readable: %v", got)
	}
	b := mustBegin(t, s, "stored:old")
	mustCommit(t, b, 1, vecEntry("a", "", []float32{0, 1}))
	if err := b.Swap(ctx); err != nil {
		t.Fatal(err)
	}
	if m := s.Generation(); m.Vectors != other {
		t.Fatalf("new generation records %v, want %v", m.Vectors, other)
	}
	hits, err := s.SearchVector(ctx, store.VectorQuery{Vector: []float32{0, 1}, Limit: 1, Model: other.Model})
	if err != nil || len(hits) != 1 {
		t.Fatalf("search after rebuilding with the new model: %v, %v", hits, err)
	}
	if err := s.Upsert(ctx, []store.Entry{vecEntry("y", "", []float32{1, 0})}); err != nil {
		t.Fatalf("write after the swap: %v", err)
	}
	// Rolling back to the old model's generation is refused: this process
	// cannot search it.
	if _, err := s.Rollback(""); err == nil {
		t.Fatal("rolled back to a generation of another model")
	}
}

// Searches running while a swap retires their generation read it safely:
// run with -race.
func TestSwapDuringSearches(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	if err := s.Upsert(ctx, []store.Entry{titled("a", "old")}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	searched := make(chan error, 1)
	go func() {
		for {
			if _, err := s.Stats(ctx); err != nil {
				searched <- err
				return
			}
			select {
			case <-stop:
				searched <- nil
				return
			default:
			}
		}
	}()
	b := mustBegin(t, s, "test:race")
	mustCommit(t, b, 1, titled("a", "new"))
	if err := b.Swap(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	if err := <-searched; err != nil {
		t.Fatalf("Stats during the swap: %v", err)
	}
}

// A Build's methods after the store closed return ErrClosed.
func TestBuildAfterClose(t *testing.T) {
	s := newStore(t, Options{})
	b := mustBegin(t, s, "test:closed")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Position(); !errors.Is(err, ErrClosed) {
		t.Errorf("Position after Close: %v, want ErrClosed", err)
	}
	if err := b.Commit(context.Background(), nil, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close: %v, want ErrClosed", err)
	}
	if _, err := b.Stats(); !errors.Is(err, ErrClosed) {
		t.Errorf("Stats after Close: %v, want ErrClosed", err)
	}
}
