package collections

import (
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/qdrant"
	"github.com/cari-search/cari/store/qdrant/qdranttest"
)

// onQdrant are o's options with the store on the Qdrant stand-in at addr.
func onQdrant(o Options, addr string) Options {
	o.Store, o.Qdrant = "qdrant", qdrant.Options{Addr: addr}
	return o
}

// TestQdrantCollections: two collections of one data directory on one
// Qdrant, whose documents share IDs and query terms, are served under
// aliases of their own (cari.NAME, with generations cari.NAME.first...), the
// default keeping the names it had before collections; each evaluates as
// it does alone on a Qdrant of its own; a Cari alias reads one anywhere
// its name goes; deleting one drops its Qdrant collections and leaves the
// other whole.
func TestQdrantCollections(t *testing.T) {
	corpus, queries, qrels := filepath.Join("testdata", "corpus.jsonl"), filepath.Join("testdata", "queries.jsonl"), filepath.Join("testdata", "qrels.tsv")
	_, aloneAddr := qdranttest.Start(t, "")
	alone := onQdrant(keywordOnly(t.TempDir(), "docs"), aloneAddr)
	index(t, alone, corpus)
	want := evaluate(t, alone, queries, qrels, "keyword")
	if want.NDCG10 == 0 {
		t.Fatalf("the fixture scores nothing alone: %+v", want)
	}

	q, addr := qdranttest.Start(t, "")
	shared := t.TempDir()
	index(t, onQdrant(keywordOnly(shared, "other"), addr), filepath.Join("testdata", "other.jsonl"))
	index(t, onQdrant(keywordOnly(shared, catalog.Default), addr), filepath.Join("testdata", "other.jsonl"))
	docs := onQdrant(keywordOnly(shared, "docs"), addr)
	index(t, docs, corpus)
	if got := evaluate(t, docs, queries, qrels, "keyword"); !sameScores(got, want) {
		t.Errorf("beside other collections on one Qdrant: %+v, want %+v as alone", got, want)
	}
	colls, aliases := q.Names()
	wantColls := []string{"cari-first", "cari.docs.first", "cari.other.first"}
	wantAliases := map[string]string{"cari": "cari-first", "cari.docs": "cari.docs.first", "cari.other": "cari.other.first"}
	if !slices.Equal(colls, wantColls) || !maps.Equal(aliases, wantAliases) {
		t.Errorf("qdrant holds %v with aliases %v, want %v and %v", colls, aliases, wantColls, wantAliases)
	}

	// A catalog that cannot reach Qdrant refuses to forget a collection
	// whose documents are there.
	cat, err := OpenCatalog(shared, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.UpdateAliases([]catalog.AliasAction{{Alias: "live", Collection: "docs"}}); err != nil {
		t.Fatal(err)
	}
	if err := cat.Delete("other"); err == nil || !strings.Contains(err.Error(), "--store qdrant") {
		t.Errorf("delete without Qdrant: %v, want a refusal naming --store qdrant", err)
	}
	cat.Close()
	// The catalog a server serves every collection with: its default
	// collection's (Serving).
	def, err := Open(t.Context(), onQdrant(keywordOnly(shared, catalog.Default), addr))
	if err != nil {
		t.Fatal(err)
	}
	if err := def.Catalog.Delete("other"); err != nil {
		t.Fatal(err)
	}
	def.Close()
	if colls, aliases := q.Names(); slices.Contains(colls, "cari.other.first") || aliases["cari.other"] != "" || len(colls) != 2 {
		t.Errorf("after deleting other, qdrant holds %v with aliases %v", colls, aliases)
	}
	if got := evaluate(t, onQdrant(keywordOnly(shared, "live"), addr), queries, qrels, "keyword"); !sameScores(got, want) {
		t.Errorf("through the alias, after deleting the other: %+v, want %+v", got, want)
	}
	if _, err := Open(t.Context(), onQdrant(Options{DataDir: shared, Name: "other", MustExist: true}, addr)); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("open the deleted collection: %v, want ErrNotFound", err)
	}
	if _, err := Open(t.Context(), keywordOnly(shared, "docs")); err == nil || !strings.Contains(err.Error(), "--store qdrant") {
		t.Errorf("open a Qdrant collection on the local store: %v, want a refusal naming --store qdrant", err)
	}
}

// TestQdrantBM25Setting: a collection's BM25 parameters are its Qdrant
// collections' too, which then refuse a store opened with others.
func TestQdrantBM25Setting(t *testing.T) {
	_, addr := qdranttest.Start(t, "")
	o := onQdrant(keywordOnly(t.TempDir(), "tuned"), addr)
	o.Given.BM25 = store.BM25{K1: 0.3, B: 0.1}
	index(t, o, filepath.Join("testdata", "other.jsonl"))
	s, err := qdrant.Open(t.Context(), qdrant.Options{Addr: addr, Collection: "tuned"})
	if err == nil {
		s.Close()
		t.Fatal("opened the collection with the default BM25; want a refusal naming the k1 and b it was made with")
	}
	if !strings.Contains(err.Error(), "0.3") {
		t.Errorf("open with the default BM25: %v, want it to name k1 0.3", err)
	}
}

// TestQdrantMaxDocuments: a collection's limits.max_documents holds on
// Qdrant as on the local store.
func TestQdrantMaxDocuments(t *testing.T) {
	_, addr := qdranttest.Start(t, "")
	dataDir := t.TempDir()
	o := onQdrant(keywordOnly(dataDir, "small"), addr)
	o.Given.Limits.MaxDocuments = 2
	c, err := Open(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.LoadCorpus(t.Context(), Load{Corpus: filepath.Join("testdata", "other.jsonl"), Language: "en", Batch: 10})
	if !errors.Is(err, catalog.ErrLimit) {
		st, _ := c.Index.Stats(t.Context())
		t.Fatalf("loading 4 documents into a collection of at most 2: %v, %d stored; want ErrLimit", err, st.Documents)
	}
	if st, err := c.Index.Stats(t.Context()); err != nil || st.Documents != 0 {
		t.Errorf("after the refused batch: %d documents (%v), want none", st.Documents, err)
	}
}

// sameScores reports whether two evaluations score alike.
func sameScores(a, b evaluation.Summary) bool {
	return a.NDCG10 == b.NDCG10 && a.Recall100 == b.Recall100 && a.MRR10 == b.MRR10
}
