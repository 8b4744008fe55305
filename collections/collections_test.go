package collections

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/evaluation/modes"
	"github.com/cari-search/cari/internal/dirlock"
	"github.com/cari-search/cari/searcher/rerank"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
)

// keywordOnly are the options of a collection opened without models, as
// cari index --embedder none opens it.
func keywordOnly(dataDir, name string) Options {
	return Options{DataDir: dataDir, Name: name, Embed: embeddings.Config{Provider: embeddings.ProviderNone}, Rerank: rerank.Config{Kind: rerank.KindNone}}
}

// index opens the collection o names, loads corpus into it and closes it.
func index(t *testing.T, o Options, corpus string) {
	t.Helper()
	c, err := Open(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadCorpus(t.Context(), Load{Corpus: corpus, Language: "en"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// evaluate opens the collection o names (which must exist) and scores
// queries against qrels in mode.
func evaluate(t *testing.T, o Options, queries, qrels, mode string) evaluation.Summary {
	t.Helper()
	o.MustExist = true
	c, err := Open(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	qs, qr, err := evaluation.LoadLabelled(queries, qrels, false)
	if err != nil {
		t.Fatal(err)
	}
	q, err := modes.Query(mode, c.Embedder != nil)
	if err != nil {
		t.Fatal(err)
	}
	run, _, err := evaluation.RunQueries(context.Background(), qs, 1, modes.Search(c.Searcher, q))
	if err != nil {
		t.Fatal(err)
	}
	return evaluation.Evaluate(run, qr)
}

// TestCollectionsEvaluateAsAlone: a collection beside another in one data
// directory, whose documents share its IDs and its query terms and whose
// BM25 differs, scores exactly as it does alone; deleting the other leaves
// it whole; an alias reads it anywhere its name goes.
func TestCollectionsEvaluateAsAlone(t *testing.T) {
	corpus, queries, qrels := filepath.Join("testdata", "corpus.jsonl"), filepath.Join("testdata", "queries.jsonl"), filepath.Join("testdata", "qrels.tsv")
	alone := t.TempDir()
	index(t, keywordOnly(alone, "docs"), corpus)
	want := evaluate(t, keywordOnly(alone, "docs"), queries, qrels, "keyword")
	if want.NDCG10 == 0 {
		t.Fatalf("the fixture scores nothing alone: %+v", want)
	}

	shared := t.TempDir()
	other := keywordOnly(shared, "other")
	other.Given.BM25 = store.BM25{K1: 0.3, B: 0.1}
	index(t, other, filepath.Join("testdata", "other.jsonl"))
	index(t, keywordOnly(shared, "docs"), corpus)
	if got := evaluate(t, keywordOnly(shared, "docs"), queries, qrels, "keyword"); got.NDCG10 != want.NDCG10 || got.Recall100 != want.Recall100 || got.MRR10 != want.MRR10 {
		t.Errorf("beside another collection: %+v, want %+v as alone", got, want)
	}

	cat, err := OpenCatalog(shared, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.UpdateAliases([]catalog.AliasAction{{Alias: "live", Collection: "docs"}}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := cat.Resolve("other"); rec.Settings.BM25.K1 != 0.3 {
		t.Errorf("other's settings: %+v, want the BM25 it was created with", rec.Settings)
	}
	if err := cat.Delete("other"); err != nil {
		t.Fatal(err)
	}
	cat.Close()
	if got := evaluate(t, keywordOnly(shared, "live"), queries, qrels, "keyword"); got.NDCG10 != want.NDCG10 {
		t.Errorf("through the alias, after deleting the other: nDCG@10 %v, want %v", got.NDCG10, want.NDCG10)
	}
	if _, err := Open(t.Context(), Options{DataDir: shared, Name: "other", MustExist: true}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("open the deleted collection: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(catalog.Dir(shared, "other")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the deleted collection's directory remains: %v", err)
	}
}

// TestLockedIsLocalLocked: a data directory held by another process is
// refused with an error that dirlock.ServerOf recognises, so cari stats can
// ask the holder's server, and that says so.
func TestLockedIsLocalLocked(t *testing.T) {
	dir := t.TempDir()
	held, err := openCatalog(dir, catalog.Options{}, "127.0.0.1:7700")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, err = OpenCatalog(dir, true, nil)
	if !errors.Is(err, local.ErrLocked) || !errors.Is(err, catalog.ErrLocked) || !strings.Contains(err.Error(), "cari stats") {
		t.Fatalf("second open: %v, want local.ErrLocked naming cari stats", err)
	}
	if h, ok := dirlock.ServerOf(dir, err); !ok || h.Addr != "127.0.0.1:7700" {
		t.Errorf("ServerOf = %+v, %v; want the holder's address", h, ok)
	}
}

// TestServingOpensOthers: the set a server serves opens a collection other
// than default with its own settings, beside the default one that holds
// the catalog, and searches it.
func TestServingOpensOthers(t *testing.T) {
	dataDir := t.TempDir()
	index(t, keywordOnly(dataDir, "kb"), filepath.Join("testdata", "other.jsonl"))
	def, err := Open(t.Context(), keywordOnly(dataDir, catalog.Default))
	if err != nil {
		t.Fatal(err)
	}
	defer def.Close()
	set := Serving(def, keywordOnly(dataDir, ""))
	rec, err := set.Catalog.Resolve("kb")
	if err != nil {
		t.Fatal(err)
	}
	kb, err := set.Open(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	defer kb.Close()
	st, err := kb.Store.Stats(t.Context())
	if err != nil || st.Documents != 4 {
		t.Errorf("kb opened by the server's set: %d documents, %v; want 4", st.Documents, err)
	}
}
