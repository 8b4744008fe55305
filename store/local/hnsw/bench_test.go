package hnsw

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cari-search/cari/store/local/hnsw/vectorset"
)

// loadANNSet reads file from the vector sets of $CARI_ANN_DATA (see
// vectorset.Load), or skips.
func loadANNSet(tb testing.TB, file string) *vectorset.Set {
	tb.Helper()
	set, err := vectorset.Load(file)
	if errors.Is(err, vectorset.ErrMissing) {
		tb.Skip(err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

// recall is the share of hits, over all queries, whose similarity reaches
// the k-th true one (less 1e-5), as ann-benchmarks and
// scripts/ann_faiss_bench.py count it: ties cannot lower it.
func recall(s *vectorset.Set, results [][]Hit) float64 {
	good := 0
	for q, hits := range results {
		threshold := s.TrueSims[q*s.K+s.K-1] - 1e-5
		for _, h := range hits[:min(len(hits), s.K)] {
			i, _ := strconv.Atoi(h.ID)
			if dot(s.Query(q), s.BaseVector(i)) >= threshold {
				good++
			}
		}
	}
	return float64(good) / float64(s.K*len(results))
}

// index is what BenchmarkANN measures: the graph, or the exact Flat.
type index interface {
	searcher
	Put(id string, vecs [][]float32) error
}

// buildANN puts every base vector into idx as a document of one passage,
// named by its row number.
func buildANN(tb testing.TB, s *vectorset.Set, idx index) {
	for i := range s.Len() {
		if err := idx.Put(strconv.Itoa(i), [][]float32{s.BaseVector(i)}); err != nil {
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
//	CARI_ANN_DATA=/tmp/ann go test -run XXX -bench ANN -benchtime 1x ./store/local/hnsw/
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
		make func(dim int) index
	}{
		{"flat", func(dim int) index { return NewFlat(dim) }},
		{"hnsw16", func(dim int) index {
			return New(dim, Params{M: 16, EfConstruction: 200, EfSearch: 64})
		}},
		{"hnsw32", func(dim int) index {
			return New(dim, Params{M: 32, EfConstruction: 200, EfSearch: 64})
		}},
	}
	for _, sc := range sets {
		b.Run(sc.file, func(b *testing.B) {
			set := loadANNSet(b, sc.file)
			for _, kind := range kinds {
				if kind.name == "flat" && set.Len() > 100_000 {
					continue // seconds per pass of the queries, and recall 1 by definition
				}
				// Built once, by whichever sub-benchmark runs first, however
				// many passes -benchtime asks for.
				var idx index
				var took time.Duration
				var heap float64
				build := func(b *testing.B) index {
					if idx == nil {
						before := heapBytes()
						start := time.Now()
						x := kind.make(set.Dim)
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
						if h, ok := idx.(*Index); ok {
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
func benchQueries(b *testing.B, set *vectorset.Set, idx index) {
	nq := set.NumQueries()
	results := make([][]Hit, nq)
	for q := range nq / 10 {
		if _, err := idx.Search(set.Query(q), set.K, nil); err != nil {
			b.Fatal(err)
		}
	}
	var lat []time.Duration
	for b.Loop() {
		for q := range nq {
			start := time.Now()
			hits, err := idx.Search(set.Query(q), set.K, nil)
			lat = append(lat, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
			results[q] = hits
		}
	}
	slices.Sort(lat)
	b.ReportMetric(recall(set, results), "recall@10")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(len(lat)), "ns/query")
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkBuildStaged measures building the graph as the store does:
// Stage and Publish in batches of 1,000 one-passage documents, so two
// insertions run at once (insertPair), over the base vectors of the GloVe
// set (see loadANNSet; $CARI_ANN_SET names another), or the first
// $CARI_ANN_BUILD of them, with efConstruction $CARI_ANN_EFC if set. It
// reports passages per second, recall@10 at the default efSearch when the
// whole set was built, and a digest of every neighbour list, which a change
// meant only to make the build faster must leave as it is.
//
//	CARI_ANN_DATA=/tmp/ann CARI_ANN_BUILD=100000 go test -run XXX -bench BuildStaged -benchtime 1x ./store/local/hnsw/
func BenchmarkBuildStaged(b *testing.B) {
	file := cmp.Or(os.Getenv("CARI_ANN_SET"), "glove-100.ann")
	set := loadANNSet(b, file)
	p := DefaultParams()
	n := set.Len()
	for name, v := range map[string]*int{"CARI_ANN_BUILD": &n, "CARI_ANN_EFC": &p.EfConstruction} {
		if s := os.Getenv(name); s != "" {
			var err error
			if *v, err = strconv.Atoi(s); err != nil || *v < 1 {
				b.Fatalf("%s=%q: want a positive number", name, s)
			}
		}
	}
	n = min(n, set.Len())
	var x *Index
	for b.Loop() {
		x = New(set.Dim, p)
		for start := 0; start < n; start += 1000 {
			docs := make([]Doc, 0, 1000)
			for i := start; i < min(start+1000, n); i++ {
				docs = append(docs, Doc{ID: strconv.Itoa(i), Vectors: [][]float32{set.BaseVector(i)}})
			}
			st, err := x.Stage(docs)
			if err != nil {
				b.Fatal(err)
			}
			x.Publish(st)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "passages/s")
	b.ReportMetric(0, "ns/op")
	b.Logf("graph digest %016x (%d nodes)", graphDigest(x), len(x.doc))
	if n < set.Len() {
		return // the set's true neighbours are among all its vectors
	}
	results := make([][]Hit, set.NumQueries())
	for q := range results {
		hits, err := x.Search(set.Query(q), set.K, nil)
		if err != nil {
			b.Fatal(err)
		}
		results[q] = hits
	}
	b.ReportMetric(recall(set, results), "recall@10")
}

// graphDigest hashes what sameGraph compares (the entry point, the top
// layer, and each node's lists, document and ordinal), so that builds in two
// processes can be compared.
func graphDigest(x *Index) uint64 {
	h := fnv.New64a()
	binary.Write(h, binary.LittleEndian, []int32{x.entry, int32(x.maxLevel)})
	for n := range int32(len(x.doc)) {
		binary.Write(h, binary.LittleEndian, x.block(n, 0))
		binary.Write(h, binary.LittleEndian, x.upper[n])
		binary.Write(h, binary.LittleEndian, []int32{x.doc[n], x.ord[n]})
	}
	return h.Sum64()
}
