package bench

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/viterin/vek/vek32"

	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local/hnsw"
	"github.com/cari-search/cari/store/local/hnsw/vectorset"
)

// RecallK is the depth of the exact answers stored and of the recall
// measured: VectorRecall is recall@RecallK.
const RecallK = 10

// VectorTee writes every passage vector that reaches the store to a file
// beside the vector file, so that the exact answers and the peers use the
// very vectors the index holds.
type VectorTee struct {
	w          indexer.Writer
	base, ids  *os.File
	bw, iw     *bufio.Writer
	path       string
	dim        int
	buf        []byte
	finished   bool
	normalized []float32
}

// NewVectorTee writes to w, and the passage vectors to annPath.base and
// their document ids to annPath.ids, one a line; VectorRecall then writes
// the vector file annPath (a vectorset file, which
// scripts/ann_faiss_bench.py and scripts/bench_peers.py read) from them.
func NewVectorTee(w indexer.Writer, annPath string) (*VectorTee, error) {
	base, err := os.Create(annPath + ".base")
	if err != nil {
		return nil, err
	}
	ids, err := os.Create(annPath + ".ids")
	if err != nil {
		base.Close()
		return nil, err
	}
	return &VectorTee{w: w, base: base, ids: ids, bw: bufio.NewWriterSize(base, 1<<20), iw: bufio.NewWriter(ids), path: annPath}, nil
}

// Upsert writes the entries to the store, then their vectors to the file.
func (t *VectorTee) Upsert(ctx context.Context, entries []store.Entry) error {
	if err := t.w.Upsert(ctx, entries); err != nil {
		return err
	}
	for _, e := range entries {
		if strings.ContainsAny(e.Doc.ID, "\n\r") {
			return fmt.Errorf("document id %q holds a line break, which the .ids file cannot hold", e.Doc.ID)
		}
		for _, v := range e.Vectors {
			if t.dim == 0 {
				t.dim = len(v)
			}
			t.normalized = append(t.normalized[:0], v...)
			hnsw.Normalize(t.normalized)
			t.buf = t.buf[:0]
			for _, x := range t.normalized {
				t.buf = binary.LittleEndian.AppendUint32(t.buf, math.Float32bits(x))
			}
			t.bw.Write(t.buf)
			t.iw.WriteString(e.Doc.ID)
			t.iw.WriteByte('\n')
		}
	}
	return nil
}

// Finish flushes both files.
func (t *VectorTee) Finish() error {
	t.finished = true
	err := errors.Join(t.bw.Flush(), t.iw.Flush())
	return errors.Join(err, t.base.Close(), t.ids.Close())
}

// Abort removes the files of a build that failed; after Finish it does
// nothing.
func (t *VectorTee) Abort() {
	if t.finished {
		return
	}
	t.base.Close()
	t.ids.Close()
	os.Remove(t.path + ".base")
	os.Remove(t.path + ".ids")
}

// annSet is a vector file in memory.
type annSet struct {
	n, dim int
	base   []float32
	docs   []int32 // document number of each base vector
	nDocs  int
	docIDs map[string]int32
}

// loadANN reads the base vectors: from PATH.base when a build just wrote
// them, else from the vector file itself.
func loadANN(path string) (*annSet, error) {
	s := &annSet{docIDs: map[string]int32{}}
	if err := s.readIDs(path + ".ids"); err != nil {
		return nil, err
	}
	s.n = len(s.docs)
	raw := path + ".base"
	if _, err := os.Stat(raw); err != nil {
		set, err := vectorset.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if set.Len() != s.n {
			return nil, fmt.Errorf("%s holds %d vectors, %s.ids %d", path, set.Len(), path, s.n)
		}
		s.dim, s.base = set.Dim, set.Base
		return s, nil
	}
	f, err := os.Open(raw)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if s.n == 0 || fi.Size()%int64(4*s.n) != 0 {
		return nil, fmt.Errorf("%s holds %d bytes, not a whole vector for each of the %d passages in %s.ids", raw, fi.Size(), s.n, path)
	}
	s.dim = int(fi.Size() / int64(4*s.n))
	s.base = make([]float32, s.n*s.dim)
	if err := binary.Read(bufio.NewReaderSize(f, 1<<20), binary.LittleEndian, s.base); err != nil {
		return nil, fmt.Errorf("read %s: %w", raw, err)
	}
	return s, nil
}

func (s *annSet) readIDs(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		d, ok := s.docIDs[sc.Text()]
		if !ok {
			d = int32(len(s.docIDs))
			s.docIDs[sc.Text()] = d
		}
		s.docs = append(s.docs, d)
	}
	s.nDocs = len(s.docIDs)
	return sc.Err()
}

// exactAnswer is one query's exact search: the top RecallK passages and the
// score of every document (its best passage).
type exactAnswer struct {
	ids      []int32
	sims     []float32
	docScore []float32
}

// exact scans every base vector for q (of unit length).
func (s *annSet) exact(q []float32) exactAnswer {
	a := exactAnswer{docScore: make([]float32, s.nDocs)}
	for i := range a.docScore {
		a.docScore[i] = float32(math.Inf(-1))
	}
	type hit struct {
		id  int32
		sim float32
	}
	top := make([]hit, 0, RecallK+1)
	for i := range s.n {
		sim := vek32.Dot(q, s.base[i*s.dim:(i+1)*s.dim])
		if d := s.docs[i]; sim > a.docScore[d] {
			a.docScore[d] = sim
		}
		if len(top) == RecallK && sim <= top[RecallK-1].sim {
			continue
		}
		j, _ := slices.BinarySearchFunc(top, sim, func(h hit, t float32) int {
			if h.sim > t {
				return -1
			}
			return 1
		})
		top = slices.Insert(top, j, hit{int32(i), sim})
		if len(top) > RecallK {
			top = top[:RecallK]
		}
	}
	for _, h := range top {
		a.ids, a.sims = append(a.ids, h.id), append(a.sims, h.sim)
	}
	return a
}

// VectorRecall measures the recall@10 of the index's vector search against
// exact search over the vectors of the vector file path; after a build
// (VectorTee) it also writes that file for the peers.
func (b *Run) VectorRecall(ctx context.Context, path string) (float64, error) {
	set, err := loadANN(path)
	if err != nil {
		return 0, err
	}
	qvecs, err := b.QueryVectors(ctx)
	if err != nil {
		return 0, err
	}
	queries := make([][]float32, len(qvecs))
	for i, v := range qvecs {
		if len(v) != set.dim {
			return 0, fmt.Errorf("%s holds %d-dimensional vectors, the model makes %d", path, set.dim, len(v))
		}
		queries[i] = slices.Clone(v)
		hnsw.Normalize(queries[i])
	}
	answers := make([]exactAnswer, len(queries))
	var wg sync.WaitGroup
	work := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range work {
				answers[i] = set.exact(queries[i])
			}
		})
	}
	for i := range queries {
		work <- i
	}
	close(work)
	wg.Wait()

	found := 0
	for i, a := range answers {
		hits, err := b.Index.SearchVector(ctx, store.VectorQuery{Vector: qvecs[i], Limit: RecallK})
		if err != nil {
			return 0, err
		}
		found += recallHits(set, a, hits)
	}
	if _, err := os.Stat(path + ".base"); err == nil {
		if err := writeANN(path, set, queries, answers); err != nil {
			return 0, err
		}
	}
	return float64(found) / float64(RecallK*len(answers)), nil
}

// recallHits counts the hits whose exact document score reaches the RecallK-th
// best document score (less 1e-5), as ann-benchmarks counts, so that ties
// cannot lower recall.
func recallHits(set *annSet, a exactAnswer, hits []store.Hit) int {
	scores := slices.Clone(a.docScore)
	slices.SortFunc(scores, func(x, y float32) int { return cmp.Compare(y, x) })
	kth := scores[min(RecallK, len(scores))-1]
	n := 0
	for _, h := range hits[:min(RecallK, len(hits))] {
		if d, ok := set.docIDs[h.ID]; ok && a.docScore[d] >= kth-1e-5 {
			n++
		}
	}
	return n
}

// writeANN writes the vector file from the fresh base file, then removes it.
func writeANN(path string, set *annSet, queries [][]float32, answers []exactAnswer) error {
	out := &vectorset.Set{Dim: set.dim, K: RecallK, Base: set.base}
	for _, q := range queries {
		out.Queries = append(out.Queries, q...)
	}
	for _, a := range answers {
		out.TrueIDs = append(out.TrueIDs, padded(a.ids, -1)...)
		out.TrueSims = append(out.TrueSims, padded(a.sims, float32(math.Inf(-1)))...)
	}
	if err := vectorset.WriteFile(path, out); err != nil {
		return err
	}
	return os.Remove(path + ".base")
}

// padded extends s to RecallK values with fill (a corpus of fewer passages).
func padded[T any](s []T, fill T) []T {
	for len(s) < RecallK {
		s = append(s, fill)
	}
	return s
}
