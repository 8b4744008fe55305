package local

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cari-search/cari/store"
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
	vecs := clustered(9500, efSpace.Dim, 29)
	queries := vecs[9300:]
	dir := t.TempDir()
	s := openEf(t, dir, 0)
	writeRound(t, s, 0, vecs)
	writeRound(t, s, 1, vecs)
	idx := s.serving.vecs.(*hnswIndex)
	if idx.p != defaultHNSW || idx.p.EfSearch != 192 {
		t.Fatalf("EfSearch 0 searches with %+v, want the default %+v", idx.p, defaultHNSW)
	}
	if idx.preferExact(idx.live) {
		t.Fatalf("%d passages: default searches would scan instead of walking the graph", idx.live)
	}
	s.Close()
	snap, err := os.ReadFile(snapshotPath(t, dir))
	if err != nil {
		t.Fatal(err)
	}

	// Exact answers: with this long a list a walk would cost more than a
	// scan, so the store scans.
	s = openEf(t, dir, MaxEfSearch)
	if x := s.serving.vecs.(*hnswIndex); x.p.EfSearch != MaxEfSearch || !x.preferExact(x.live) {
		t.Fatalf("EfSearch %d: index has EfSearch %d, scans: %v", MaxEfSearch, x.p.EfSearch, x.preferExact(x.live))
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

// TestEfSearchManyPassages: on documents of many passages the list starts
// at limit times the passages of an average document, scaled by EfSearch
// against the default, so that the default searches as before and a
// shorter EfSearch still shortens the walk (and loses recall) there.
func TestEfSearchManyPassages(t *testing.T) {
	const docs, per = 300, 20
	vecs := clustered(docs*per+100, efSpace.Dim, 31)
	w := twin{newHNSWIndex(efSpace.Dim, defaultHNSW), newFlatIndex(efSpace.Dim)}
	w.ann.p.ExactBelow = -1
	for d := range docs {
		w.put(t, "d"+strconv.Itoa(d), vecs[d*per:(d+1)*per]...)
	}
	if got := w.ann.startEf(10); got != 10*per {
		t.Errorf("default EfSearch starts a top-10 search at %d candidates, want %d (10 documents of %d passages)", got, 10*per, per)
	}
	queries := vecs[docs*per:]
	def := w.recall(t, queries, nil)
	w.ann.p.EfSearch = 16
	if got, want := w.ann.startEf(10), (10*per*16+DefaultEfSearch-1)/DefaultEfSearch; got != want {
		t.Errorf("EfSearch 16 starts a top-10 search at %d candidates, want %d", got, want)
	}
	low := w.recall(t, queries, nil)
	t.Logf("recall@10 on %d documents of %d passages: EfSearch 16 %.3f, default %.3f", docs, per, low, def)
	if !(low < def) {
		t.Errorf("recall@10 with EfSearch 16 is %.3f, with the default %.3f: want lower", low, def)
	}
}
