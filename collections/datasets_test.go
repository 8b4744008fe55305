package collections

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/searcher/rerank"
	"github.com/cari-search/cari/store/catalog"
)

// dataset is one of ../shared/datasets in the BEIR layout.
type dataset struct{ corpus, queries, qrels string }

func sharedDataset(t *testing.T, name, corpus string) dataset {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "datasets", name)
	d := dataset{filepath.Join(dir, corpus), filepath.Join(dir, "queries.jsonl"), filepath.Join(dir, "qrels.tsv")}
	for _, p := range []string{d.corpus, d.queries, d.qrels} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("needs %s (../shared/datasets)", p)
		}
	}
	return d
}

// TestTwoDatasetsEvaluateAsAlone is the acceptance test on the real
// collections: SciFact with the default model and Cranfield keyword-only
// (--embedder none, recorded as its setting) in one data directory each
// score exactly as alone (hybrid and keyword nDCG@10, Recall@100, MRR@10),
// and deleting one leaves the other scoring the same.
func TestTwoDatasetsEvaluateAsAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes SciFact twice with the default model: about a minute")
	}
	scifact := sharedDataset(t, "scifact", "corpus.jsonl.gz")
	cranfield := sharedDataset(t, "cranfield", "corpus.jsonl")
	if _, err := os.Stat(filepath.Join("..", "models", embeddings.DefaultStaticModel)); err != nil {
		t.Skip("needs the default model (make models, or a models link to it)")
	}
	opts := func(dataDir, name string) Options {
		return Options{DataDir: dataDir, Name: name, Embeds: true, Reranks: true,
			Embed: embeddings.Config{Provider: embeddings.DefaultProvider, ModelsDir: filepath.Join("..", "models")}, Rerank: rerank.Config{Kind: rerank.KindNone}}
	}
	keywordOnly := func(dataDir, name string) Options {
		o := opts(dataDir, name)
		o.Given.Embedder = embeddings.ProviderNone
		o.Embed.Provider = embeddings.ProviderNone
		return o
	}
	same := func(what string, got, want evaluation.Summary) {
		t.Helper()
		if got.NDCG10 != want.NDCG10 || got.Recall100 != want.Recall100 || got.MRR10 != want.MRR10 {
			t.Errorf("%s: nDCG@10 %.4f Recall@100 %.4f MRR@10 %.4f, want %.4f %.4f %.4f as alone", what, got.NDCG10, got.Recall100, got.MRR10, want.NDCG10, want.Recall100, want.MRR10)
		}
	}

	alone := t.TempDir()
	index(t, opts(alone, "scifact"), scifact.corpus)
	index(t, keywordOnly(alone, "cranfield-alone"), cranfield.corpus)
	wantSci := evaluate(t, opts(alone, "scifact"), scifact.queries, scifact.qrels, "hybrid")
	wantCran := evaluate(t, opts(alone, "cranfield-alone"), cranfield.queries, cranfield.qrels, "keyword")
	t.Logf("alone: scifact hybrid nDCG@10 %.4f; cranfield keyword nDCG@10 %.4f", wantSci.NDCG10, wantCran.NDCG10)

	shared := t.TempDir()
	index(t, keywordOnly(shared, "cranfield"), cranfield.corpus)
	index(t, opts(shared, "scifact"), scifact.corpus)
	// Cranfield is opened with the process's default model named nowhere
	// but in its settings: they keep it keyword-only.
	same("scifact beside cranfield", evaluate(t, opts(shared, "scifact"), scifact.queries, scifact.qrels, "hybrid"), wantSci)
	same("cranfield beside scifact", evaluate(t, opts(shared, "cranfield"), cranfield.queries, cranfield.qrels, "keyword"), wantCran)

	cat, err := OpenCatalog(shared, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = cat.Delete("scifact")
	cat.Close()
	if err != nil {
		t.Fatal(err)
	}
	same("cranfield after deleting scifact", evaluate(t, opts(shared, "cranfield"), cranfield.queries, cranfield.qrels, "keyword"), wantCran)
	if _, err := os.Stat(catalog.Dir(shared, "scifact")); err == nil {
		t.Error("scifact's directory remains after its delete")
	}
}
