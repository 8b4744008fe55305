package static

import (
	"cmp"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/indexer/corpus"
)

// collection is a labelled test collection loaded for exact vector search.
type collection struct {
	docIDs  []string
	docs    []string // title and text, as they are embedded
	queries []evaluation.Query
	qrels   evaluation.Qrels
}

// sharedDatasets returns ../shared/datasets or skips the test.
func sharedDatasets(tb testing.TB) string {
	tb.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "datasets"))
	if err == nil {
		if _, err = os.Stat(dir); err == nil {
			return dir
		}
	}
	tb.Skipf("test collections not found at ../shared/datasets: %v", err)
	return ""
}

// loadCollection reads a BEIR-layout collection; split is "" for the test
// queries or "train" for scifact/train.
func loadCollection(tb testing.TB, name, corpusFile, split string) *collection {
	tb.Helper()
	dir := filepath.Join(sharedDatasets(tb), name)
	r, err := corpus.Open(filepath.Join(dir, corpusFile))
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	c := &collection{}
	for doc, err := range r.All() {
		if err != nil {
			tb.Fatal(err)
		}
		c.docIDs = append(c.docIDs, doc.ID)
		c.docs = append(c.docs, doc.Title+" "+doc.Text)
	}
	qdir := filepath.Join(dir, split)
	if c.queries, err = evaluation.LoadQueries(filepath.Join(qdir, "queries.jsonl")); err != nil {
		tb.Fatal(err)
	}
	if c.qrels, err = evaluation.LoadQrels(filepath.Join(qdir, "qrels.tsv"), false); err != nil {
		tb.Fatal(err)
	}
	return c
}

// exactSearch embeds every document and query and ranks the documents of
// each query by exact cosine similarity (the vectors are unit length, so
// by dot product), keeping the top 100 as evaluation.Run.
func exactSearch(c *collection, embedDoc, embedQuery func(string) []float32) evaluation.Run {
	docVecs := parallelMap(c.docs, embedDoc)
	texts := make([]string, len(c.queries))
	for i, q := range c.queries {
		texts[i] = q.Text
	}
	queryVecs := parallelMap(texts, embedQuery)
	run := make(evaluation.Run, len(c.queries))
	type hit struct {
		doc   int
		score float32
	}
	hits := make([]hit, len(c.docs))
	for qi, q := range c.queries {
		for di, d := range docVecs {
			hits[di] = hit{di, dot(queryVecs[qi], d)}
		}
		slices.SortFunc(hits, func(a, b hit) int { return cmp.Compare(b.score, a.score) })
		for _, h := range hits[:min(len(hits), evaluation.RecallCutoff)] {
			run.Add(q.ID, c.docIDs[h.doc], float64(h.score))
		}
	}
	return run
}

func parallelMap(texts []string, f func(string) []float32) [][]float32 {
	out := make([][]float32, len(texts))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(texts); i += workers {
				out[i] = f(texts[i])
			}
		})
	}
	wg.Wait()
	return out
}

func dot(a, b []float32) float32 {
	var s float32
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

// defaultModel loads the model "make models" imports, or skips.
func defaultModel(tb testing.TB) *Model {
	tb.Helper()
	path := filepath.Join("..", "..", "models", "glove-6b-100d.cvec")
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("%s not found: run \"make models\" to fetch and import GloVe", path)
	}
	m, err := Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestRetrievalQuality measures the imported GloVe SIF model by exact
// cosine search: nDCG@10 on SciFact test (the acceptance figure,
// >= 0.24), and for information SciFact train (where the SIF choices were
// tuned) and Cranfield.
func TestRetrievalQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("embeds whole collections")
	}
	m := defaultModel(t)
	for _, tc := range []struct {
		name, dataset, corpus, split string
		min                          float64
	}{
		{"scifact-test", "scifact", "corpus.jsonl.gz", "", 0.30},
		{"scifact-train", "scifact", "corpus.jsonl.gz", "train", 0.34},
		{"cranfield", "cranfield", "corpus.jsonl", "", 0.15},
	} {
		c := loadCollection(t, tc.dataset, tc.corpus, tc.split)
		s := evaluation.Evaluate(exactSearch(c, m.Embed, m.Embed), c.qrels)
		t.Logf("%s: ndcg@10=%.4f recall@100=%.4f mrr@10=%.4f queries=%d", tc.name, s.NDCG10, s.Recall100, s.MRR10, s.Queries)
		if s.NDCG10 < tc.min {
			t.Errorf("%s: nDCG@10 %.4f, want >= %.2f", tc.name, s.NDCG10, tc.min)
		}
	}
}

// BenchmarkEmbedSciFact embeds every SciFact document (title and text)
// one after another; run with -cpu 1 for the one-core figure.
func BenchmarkEmbedSciFact(b *testing.B) {
	m := defaultModel(b)
	c := loadCollection(b, "scifact", "corpus.jsonl.gz", "")
	var bytes int
	for _, d := range c.docs {
		bytes += len(d)
	}
	b.SetBytes(int64(bytes))
	b.ResetTimer()
	for b.Loop() {
		for _, d := range c.docs {
			m.Embed(d)
		}
	}
	b.ReportMetric(float64(b.N*len(c.docs))/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(0, "ns/op")
}

func evaluationNDCG(c *collection, m *Model) float64 {
	return evaluation.Evaluate(exactSearch(c, m.Embed, m.Embed), c.qrels).NDCG10
}
