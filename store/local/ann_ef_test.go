package local

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local/hnsw"
	"github.com/cari-search/cari/store/local/hnsw/vectorset"
)

// efSpace has enough dimensions that a graph walk with a short candidate
// list misses some of the nearest passages.
var efSpace = VectorSpace{Model: "test/clusters-64@1", Dim: 64}

// openEf opens dir with the test vectors and an EfSearch.
func openEf(t *testing.T, dir string, ef int) *Store {
	t.Helper()
	s, err := Open(dir, Options{Vectors: efSpace, EfSearch: ef})
	if err != nil {
		t.Fatalf("open with EfSearch %d: %v", ef, err)
	}
	return s
}

// efRecall is the mean share of want's top 10 that dir's store finds when
// opened with EfSearch ef.
func efRecall(t *testing.T, dir string, ef int, queries [][]float32, want [][]store.Hit) float64 {
	t.Helper()
	s := openEf(t, dir, ef)
	defer s.Close()
	var sum float64
	for i, q := range queries {
		in := map[string]bool{}
		for _, h := range want[i] {
			in[h.ID] = true
		}
		n := 0
		for _, h := range searchVec(t, s, q, 10, store.Filter{}) {
			if in[h.ID] {
				n++
			}
		}
		sum += float64(n) / float64(len(want[i]))
	}
	return sum / float64(len(queries))
}

// TestEfSearchOption: the store's EfSearch reaches the graph walk (a short
// candidate list finds fewer of the true nearest documents than the
// default, and one long enough that a walk would cost more than a scan
// answers exactly), while the graph and its snapshot stay the same
// whatever it is.
func TestEfSearchOption(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 2,000 documents of 3 passages, searches 200 queries 4 times")
	}
	vecs := vectorset.Clustered(9500, efSpace.Dim, 29)
	queries := vecs[9300:]
	dir := t.TempDir()
	s := openEf(t, dir, 0)
	writeRound(t, s, 0, vecs)
	writeRound(t, s, 1, vecs)
	idx := s.serving.vecs.(*hnsw.Index)
	if idx.Params() != hnsw.DefaultParams() || idx.Params().EfSearch != 192 {
		t.Fatalf("EfSearch 0 searches with %+v, want the default %+v", idx.Params(), hnsw.DefaultParams())
	}
	if idx.ScansExactly() {
		t.Fatalf("%d passages: default searches would scan instead of walking the graph", idx.Stats().Passages)
	}
	s.Close()
	snap, err := os.ReadFile(snapshotPath(t, dir))
	if err != nil {
		t.Fatal(err)
	}

	// Exact answers: with this long a list a walk would cost more than a
	// scan, so the store scans.
	s = openEf(t, dir, MaxEfSearch)
	if x := s.serving.vecs.(*hnsw.Index); x.Params().EfSearch != MaxEfSearch || !x.ScansExactly() {
		t.Fatalf("EfSearch %d: index has EfSearch %d, scans: %v", MaxEfSearch, x.Params().EfSearch, x.ScansExactly())
	}
	var exact [][]store.Hit
	for _, q := range queries {
		exact = append(exact, searchVec(t, s, q, 10, store.Filter{}))
	}
	s.Close()

	low := efRecall(t, dir, 1, queries, exact)
	def := efRecall(t, dir, 0, queries, exact)
	t.Logf("recall@10: EfSearch 1 %.3f, default %.3f", low, def)
	if !(low < def) {
		t.Errorf("recall@10 with EfSearch 1 is %.3f, with the default %.3f: want lower", low, def)
	}
	if def < 0.9 {
		t.Errorf("recall@10 with the default EfSearch is %.3f, want at least 0.9", def)
	}

	// Opening with another EfSearch rewrote nothing: the snapshot is the
	// one the default store wrote.
	after, err := os.ReadFile(snapshotPath(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snap, after) {
		t.Error("the snapshot changed after opening with other EfSearch values")
	}
}

func TestEfSearchValidation(t *testing.T) {
	for _, ef := range []int{-1, MaxEfSearch + 1} {
		s, err := Open(filepath.Join(t.TempDir(), "data"), Options{EfSearch: ef})
		if err == nil {
			s.Close()
			t.Fatalf("EfSearch %d: opened", ef)
		}
		if !strings.Contains(err.Error(), "EfSearch") {
			t.Errorf("EfSearch %d: error %q does not name the option", ef, err)
		}
	}
	for _, ef := range []int{0, 1, MaxEfSearch} {
		s, err := Open(filepath.Join(t.TempDir(), "data"), Options{EfSearch: ef})
		if err != nil {
			t.Fatalf("EfSearch %d: %v", ef, err)
		}
		want := ef
		if ef == 0 {
			want = DefaultEfSearch
		}
		if s.serving.hnsw.EfSearch != want {
			t.Errorf("EfSearch %d: the generation searches with %d, want %d", ef, s.serving.hnsw.EfSearch, want)
		}
		s.Close()
	}
}
