package local

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local/hnsw"
	"github.com/cari-search/cari/store/local/hnsw/vectorset"

	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/evaluation"
)

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
	set, err := vectorset.Load("scifact-passages.ann")
	if errors.Is(err, vectorset.ErrMissing) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	s, flat := sciFactVectorStore(b, set)
	queries, err := evaluation.LoadQueries(sharedDataset(b, "scifact/queries.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	train, err := evaluation.LoadQueries(sharedDataset(b, "scifact/train/queries.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	queries = append(queries, train...)
	if len(queries) != set.NumQueries() {
		b.Fatalf("%d queries, %d query vectors: regenerate the vector sets", len(queries), set.NumQueries())
	}
	ctx := context.Background()
	const candidates = 100
	vector := func(q int) {
		if _, err := s.SearchVector(ctx, store.VectorQuery{Vector: set.Query(q), Limit: candidates}); err != nil {
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
	scan := scanningCopy(b, graph.(*hnsw.Index), set.Dim)
	b.Run("recall", func(b *testing.B) {
		for b.Loop() {
			for _, k := range []int{10, candidates} {
				var sum float64
				for q := range queries {
					want, err := flat.Search(set.Query(q), k, nil)
					if err != nil {
						b.Fatal(err)
					}
					got, err := graph.Search(set.Query(q), k, nil)
					if err != nil {
						b.Fatal(err)
					}
					found := map[string]bool{}
					for _, h := range got {
						found[h.ID] = true
					}
					n := 0
					for _, h := range want {
						if found[h.ID] {
							n++
						}
					}
					sum += float64(n) / float64(len(want))
				}
				b.ReportMetric(sum/float64(len(queries)), "docs-recall@"+strconv.Itoa(k))
			}
		}
		b.ReportMetric(0, "ns/op")
	})
	for _, run := range []struct {
		name  string
		index vectorIndex
		query func(int)
	}{
		{"vector", graph, vector},
		{"vector-scan", scan, vector},
		{"vector-flat", flat, vector},
		{"hybrid", graph, hybrid},
		{"hybrid-flat", flat, hybrid},
	} {
		b.Run(run.name, func(b *testing.B) {
			s.serving.vecs = run.index
			defer func() { s.serving.vecs = graph }()
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

// scanningCopy is graph read back from its snapshot with searches that scan
// every passage exactly instead of walking.
func scanningCopy(b *testing.B, graph *hnsw.Index, dim int) *hnsw.Index {
	path := filepath.Join(b.TempDir(), annSnapshotFile)
	if err := writeSnapshot(path, graph, hnsw.Mark{}); err != nil {
		b.Fatal(err)
	}
	p := graph.Params()
	p.ExactBelow = math.MaxInt
	scan, _, err := hnsw.ReadSnapshot(path, dim, p)
	if err != nil {
		b.Fatal(err)
	}
	return scan
}

// sciFactVectorStore indexes SciFact as cari index does, with the passage
// vectors of set (written by scripts/annvectors in the same order), and
// returns the store and an exact index of the same vectors.
func sciFactVectorStore(b *testing.B, set *vectorset.Set) (*Store, *hnsw.Flat) {
	docs := loadCorpus(b, sharedDataset(b, "scifact/corpus.jsonl.gz"))
	chunker, err := analysis.NewChunker(analysis.ChunkOptions{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(b.TempDir(), Options{Vectors: VectorSpace{Model: "annvectors/scifact", Dim: set.Dim}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	flat := hnsw.NewFlat(set.Dim)
	row := 0
	var batch []store.Entry
	for i, d := range docs {
		e := store.Entry{Doc: d, Chunks: chunker.Chunk(d.Text), Vectors: [][]float32{}}
		for range e.Chunks {
			if row < set.Len() {
				e.Vectors = append(e.Vectors, set.BaseVector(row))
			}
			row++
		}
		batch = append(batch, e)
		if len(batch) == 512 || i == len(docs)-1 {
			if row > set.Len() {
				break
			}
			if err := s.Upsert(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			for _, e := range batch {
				if err := flat.Put(e.Doc.ID, e.Vectors); err != nil {
					b.Fatal(err)
				}
			}
			batch = batch[:0]
		}
	}
	if row != set.Len() {
		b.Fatalf("SciFact has %d passages, the vector set %d: regenerate it", row, set.Len())
	}
	return s, flat
}
