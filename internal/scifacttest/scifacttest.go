// Package scifacttest builds, for benchmarks, the local store that cari
// index makes of SciFact (../shared/datasets) with the default static
// model (make models), or skips when either is absent.
package scifacttest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/indexer/corpus"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local"
)

// Stack indexes SciFact's corpus with the default static model, as cari
// index does, and returns the store, the embedder and SciFact's queries.
// root is the repository's root relative to the test's directory. It
// skips tb when the collection or the model is absent.
func Stack(tb testing.TB, root string) (*local.Store, *embeddings.Provider, []evaluation.Query) {
	tb.Helper()
	dir := filepath.Join(root, "..", "shared", "datasets", "scifact")
	model := filepath.Join(root, "models", embeddings.DefaultStaticModel)
	for _, p := range []string{filepath.Join(dir, "corpus.jsonl.gz"), model} {
		if _, err := os.Stat(p); err != nil {
			tb.Skipf("needs %s (../shared/datasets and make models)", p)
		}
	}
	ctx := context.Background()
	emb, err := embeddings.New(ctx, embeddings.Config{Model: model})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { emb.Close() })
	info := emb.Model()
	s, err := local.Open(tb.TempDir(), local.Options{Vectors: store.VectorSpace{Model: info.ID(), Dim: info.Dim}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	ix, err := indexer.New(s, indexer.Options{Embedder: emb})
	if err != nil {
		tb.Fatal(err)
	}
	r, err := corpus.Open(filepath.Join(dir, "corpus.jsonl.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	for rec, err := range r.All() {
		if err != nil {
			tb.Fatal(err)
		}
		if err := ix.Add(ctx, cari.Document{ID: rec.ID, Title: rec.Title, Text: rec.Text}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := ix.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	queries, err := evaluation.LoadQueries(filepath.Join(dir, "queries.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	return s, emb, queries
}
