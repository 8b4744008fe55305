package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

var space3 = VectorSpace{Model: "test/axes@1", Dim: 3}

// vecEntry is a document with one passage per vector.
func vecEntry(id, domain string, vecs ...[]float32) store.Entry {
	d := cari.Document{ID: id, Text: "passage text " + id, Domain: domain}
	if err := d.Normalize(); err != nil {
		panic(err)
	}
	chunks := make([]cari.Chunk, len(vecs))
	for i := range chunks {
		chunks[i] = cari.Chunk{Ordinal: i, End: len(d.Text)}
	}
	return store.Entry{Doc: d, Chunks: chunks, Vectors: vecs}
}

func vecIDs(hits []store.Hit) []string {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	return ids
}

func searchVec(t *testing.T, s *Store, q []float32, limit int, f store.Filter) []store.Hit {
	t.Helper()
	hits, err := s.SearchVector(context.Background(), store.VectorQuery{Vector: q, Limit: limit, Filter: f})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func TestVectorSearchBestPassageAndFilters(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = s.Upsert(ctx, []store.Entry{
		vecEntry("x", "a.example", []float32{1, 0, 0}),
		vecEntry("y", "b.example", []float32{0, 1, 0}, []float32{0.9, 0.1, 0}),
		vecEntry("z", "a.example", []float32{0, 0, 1}),
	})
	if err != nil {
		t.Fatal(err)
	}
	hits := searchVec(t, s, []float32{2, 0, 0}, 3, store.Filter{})
	if got := vecIDs(hits); !slices.Equal(got, []string{"x", "y", "z"}) {
		t.Fatalf("order = %v, want [x y z]", got)
	}
	if hits[1].Passage != 1 {
		t.Errorf("y's best passage = %d, want 1 (the one near the query)", hits[1].Passage)
	}
	if hits[0].Score < 0.999 || hits[0].Score > 1.001 {
		t.Errorf("cosine of identical directions = %v, want 1", hits[0].Score)
	}
	got := vecIDs(searchVec(t, s, []float32{1, 0, 0}, 3, store.Filter{IncludeDomains: []string{"a.example"}}))
	if !slices.Equal(got, []string{"x", "z"}) {
		t.Errorf("include a.example = %v, want [x z]", got)
	}
	got = vecIDs(searchVec(t, s, []float32{1, 0, 0}, 3, store.Filter{ExcludeDomains: []string{"a.example"}}))
	if !slices.Equal(got, []string{"y"}) {
		t.Errorf("exclude a.example = %v, want [y]", got)
	}

	// Replace, delete, reopen: the log replays to the same state.
	if err := s.Upsert(ctx, []store.Entry{vecEntry("x", "a.example", []float32{0, 0, 1})}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, []string{"z"}); err != nil {
		t.Fatal(err)
	}
	want := vecIDs(searchVec(t, s, []float32{0, 0, 1}, 3, store.Filter{}))
	if !slices.Equal(want, []string{"x", "y"}) {
		t.Fatalf("after replace and delete = %v, want [x y]", want)
	}
	s.Close()
	s, err = Open(dir, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := vecIDs(searchVec(t, s, []float32{0, 0, 1}, 3, store.Filter{})); !slices.Equal(got, want) {
		t.Errorf("after reopen = %v, want %v", got, want)
	}
}

func TestVectorLogUncommittedTailIsDropped(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(context.Background(), []store.Entry{vecEntry("kept", "", []float32{1, 0, 0})}); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, generationsDir, s.Generation().Name, vectorLogFile)
	s.Close()

	// A crash after the log was written but before the keyword index
	// committed leaves records past the committed offset.
	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	tail := encodeRecord(vectorRecord{op: opPut, id: "ghost", vectors: [][]float32{{1, 0, 0}}})
	if _, err := f.Write(append([]byte{byte(len(tail)), 0, 0, 0, 1, 2, 3, 4}, tail...)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s, err = Open(dir, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := vecIDs(searchVec(t, s, []float32{1, 0, 0}, 5, store.Filter{})); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("after reopen = %v, want only the committed document", got)
	}
}

func TestVectorLogDamageIsReported(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(context.Background(), []store.Entry{vecEntry("a", "", []float32{1, 0, 0})}); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, generationsDir, s.Generation().Name, vectorLogFile)
	s.Close()
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff // flip a bit inside the committed record
	if err := os.WriteFile(logPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{Vectors: space3})
	if err == nil || !strings.Contains(err.Error(), logPath) || !strings.Contains(err.Error(), "rebuild") {
		t.Errorf("Open of a damaged vector log: %v, want an error naming %s and the repair", err, logPath)
	}
	if err := os.Truncate(logPath, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{Vectors: space3}); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("Open of a truncated vector log: %v, want it reported", err)
	}
}

func TestVectorModelChangesAreRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(context.Background(), []store.Entry{vecEntry("a", "", []float32{1, 0, 0})}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err = Open(dir, Options{Vectors: VectorSpace{Model: "other@2", Dim: 3}})
	if err == nil || !strings.Contains(err.Error(), "reindex") {
		t.Errorf("open with another model: %v, want a refusal pointing to reindex", err)
	}
	// Without an embedder the index still serves keyword search, but can
	// neither search vectors nor take documents without them.
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.SearchVector(context.Background(), store.VectorQuery{Vector: []float32{1, 0, 0}, Limit: 1}); !errors.Is(err, ErrNoVectors) {
		t.Errorf("SearchVector without the model: %v, want ErrNoVectors", err)
	}
	if err := s.Upsert(context.Background(), entries(cari.Document{ID: "b", Text: "no vectors"})); err == nil {
		t.Error("Upsert without vectors into a vector generation succeeded")
	}
	if hits := mustSearch(t, s, store.KeywordQuery{Text: "passage", Limit: 5}); len(hits) != 1 {
		t.Errorf("keyword search without the model = %v, want the one document", hits)
	}

	// A keyword-only index with documents refuses to adopt a model.
	kw := t.TempDir()
	k, err := Open(kw, Options{})
	if err != nil {
		t.Fatal(err)
	}
	upsert(t, k, cari.Document{ID: "k", Text: "keyword only"})
	k.Close()
	if _, err := Open(kw, Options{Vectors: space3}); err == nil || !strings.Contains(err.Error(), "without vectors") {
		t.Errorf("adding a model to a keyword index with documents: %v, want a refusal", err)
	}
}

func TestVectorDimensionMismatchIsRefused(t *testing.T) {
	s := newStore(t, Options{Vectors: space3})
	err := s.Upsert(context.Background(), []store.Entry{vecEntry("a", "", []float32{1, 0})})
	if err == nil || !strings.Contains(err.Error(), "dimensions") {
		t.Errorf("2-dim vector into a 3-dim index: %v, want refused", err)
	}
	if _, err := s.SearchVector(context.Background(), store.VectorQuery{Vector: []float32{1}, Limit: 1}); err == nil {
		t.Error("1-dim query accepted by a 3-dim index")
	}
}
