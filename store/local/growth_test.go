package local

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local/hnsw"
)

var space16 = VectorSpace{Model: "test/random@1", Dim: 16}

// growthEntry is document i in version v: two passages with vectors drawn
// from (i, v), so a new version has new text and new vectors.
func growthEntry(i, v int) store.Entry {
	d := cari.Document{ID: fmt.Sprintf("doc-%04d", i), Title: fmt.Sprintf("Title %d", i), Language: "en",
		Text: fmt.Sprintf("First passage of document %d version %d. Second passage about topic %d.", i, v, i%17)}
	if err := d.Normalize(); err != nil {
		panic(err)
	}
	cut := len(d.Text) / 2
	r := rand.New(rand.NewPCG(uint64(i), uint64(v)))
	vecs := make([][]float32, 2)
	for k := range vecs {
		vecs[k] = make([]float32, space16.Dim)
		for j := range vecs[k] {
			vecs[k][j] = r.Float32()*2 - 1
		}
	}
	return store.Entry{Doc: d, Chunks: []cari.Chunk{{End: cut}, {Ordinal: 1, Start: cut, End: len(d.Text)}}, Vectors: vecs}
}

func mustDirSize(t *testing.T, dir string) int64 {
	t.Helper()
	n, err := dirSize(dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func graphOf(t *testing.T, s *Store) *hnsw.Index {
	t.Helper()
	g, ok := s.serving.vecs.(*hnsw.Index)
	if !ok {
		t.Fatal("the store has no graph")
	}
	return g
}

// Upserting the same 1,000 documents ten times leaves the data directory
// the size it had after the first time (within 1.2x): an unchanged
// document is not written again.
func TestUpsertSameDocumentsDoesNotGrow(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Vectors: space16})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	entries := make([]store.Entry, 1000)
	for i := range entries {
		entries[i] = growthEntry(i, 0)
	}
	ctx := context.Background()
	var first int64
	for round := range 10 {
		for b := 0; b < len(entries); b += 250 {
			if err := s.Upsert(ctx, entries[b:b+250]); err != nil {
				t.Fatal(err)
			}
		}
		if round == 0 {
			first = mustDirSize(t, dir)
		}
	}
	last := mustDirSize(t, dir)
	st := graphOf(t, s).Stats()
	t.Logf("data directory after the first upsert %d bytes, after ten %d (%.2fx); graph %d nodes for %d passages",
		first, last, float64(last)/float64(first), st.Nodes, st.Passages)
	if float64(last) > 1.2*float64(first) {
		t.Errorf("data directory grew from %d to %d bytes upserting the same documents", first, last)
	}
	if st.Nodes != 2000 || st.Passages != 2000 {
		t.Errorf("graph has %d nodes for %d passages, want 2000 and 2000", st.Nodes, st.Passages)
	}
}

// A soak of upserts that change documents and of deletes keeps the graph's
// nodes and the log's records within a constant times the live passages and
// documents (plus the garbage that starts a compaction and one round's
// changes), and the data directory bounded; the store reopens with every
// document's vectors.
func TestSoakUpsertDeleteStaysBounded(t *testing.T) {
	docs, rounds := 200, 30
	if !testing.Short() {
		docs, rounds = 2000, 100
	}
	old := compactMinGarbage
	compactMinGarbage = 64
	t.Cleanup(func() { compactMinGarbage = old })

	dir := t.TempDir()
	s, err := Open(dir, Options{Vectors: space16})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	version := make([]int, docs)
	live := make([]bool, docs)
	all := make([]store.Entry, docs)
	for i := range all {
		all[i], live[i] = growthEntry(i, 0), true
	}
	if err := s.Upsert(ctx, all); err != nil {
		t.Fatal(err)
	}
	base := mustDirSize(t, dir)
	r := rand.New(rand.NewPCG(1, 2))
	var maxSize int64
	perRound := docs / 4
	for round := range rounds {
		var batch []store.Entry
		var gone []string
		for range perRound {
			i := r.IntN(docs)
			if live[i] && r.IntN(4) == 0 {
				gone = append(gone, all[i].Doc.ID)
				live[i] = false
				continue
			}
			version[i]++
			live[i] = true
			batch = append(batch, growthEntry(i, version[i]))
		}
		if err := s.Upsert(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Delete(ctx, gone); err != nil {
			t.Fatal(err)
		}
		s.compactions.Wait()
		st, records := graphOf(t, s).Stats(), graphOf(t, s).Records()
		slack := compactMinGarbage + 2*perRound
		if st.Nodes > 2*st.Passages+slack || int(records) > 2*st.Known+slack {
			t.Fatalf("round %d: graph has %d nodes for %d live passages, log %d records for %d documents", round, st.Nodes, st.Passages, records, st.Known)
		}
		maxSize = max(maxSize, mustDirSize(t, dir))
	}
	st := graphOf(t, s).Stats()
	t.Logf("%d rounds of %d changes on %d documents: data directory %d bytes after loading, at most %d (%.2fx); graph %d nodes for %d passages",
		rounds, perRound, docs, base, maxSize, float64(maxSize)/float64(base), st.Nodes, st.Passages)
	if maxSize > 4*base {
		t.Errorf("data directory grew from %d to %d bytes with the same number of documents", base, maxSize)
	}
	want := graphOf(t, s).Passages()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{Vectors: space16})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := graphOf(t, s).Passages(); len(got) != len(want) {
		t.Errorf("reopened store has vectors of %d documents, want %d", len(got), len(want))
	}
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK() {
		t.Errorf("verify after the soak: %+v, %v", rep, err)
	}
}

// A compaction interrupted before its commit leaves its new log, and one
// interrupted after it the old one: either way the store opens with every
// document's vectors and removes the stray log.
func TestCompactionInterruptedLeavesWholeStore(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Vectors: space16})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for v := range 3 {
		var batch []store.Entry
		for i := range 50 {
			batch = append(batch, growthEntry(i, v))
		}
		if err := s.Upsert(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	genDir := s.serving.dir
	oldLog, err := os.ReadFile(filepath.Join(genDir, vectorLogFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if st := graphOf(t, s).Stats(); st.Nodes != 100 {
		t.Errorf("after compaction the graph has %d nodes, want 100", st.Nodes)
	}
	current := s.serving.logName
	if current == vectorLogFile {
		t.Fatal("compaction kept the old log's name")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The old log, as a kill right after the commit leaves it, and the new
	// log of a later compaction killed before its commit.
	stray := []string{vectorLogFile, "vectors.99999999999999999.log"}
	for _, name := range stray {
		if err := os.WriteFile(filepath.Join(genDir, name), oldLog, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err = Open(dir, Options{Vectors: space16})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := graphOf(t, s).Passages()
	for i := range 50 {
		if got[fmt.Sprintf("doc-%04d", i)] != 2 {
			t.Fatalf("after reopening, document %d has %d passages, want 2", i, got[fmt.Sprintf("doc-%04d", i)])
		}
	}
	if hits := searchVec(t, s, growthEntry(7, 2).Vectors[0], 1, store.Filter{}); len(hits) != 1 || hits[0].ID != "doc-0007" {
		t.Errorf("nearest to document 7's newest passage: %v", hits)
	}
	for _, name := range stray {
		if _, err := os.Stat(filepath.Join(genDir, name)); err == nil {
			t.Errorf("stray log %s was not removed", name)
		}
	}
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK() {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}
