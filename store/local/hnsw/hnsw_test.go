package hnsw

import (
	"math"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/cari-search/cari/store/local/hnsw/vectorset"
)

// testHNSW is a small graph that the tests can push into its approximate
// regime: no exact scans unless asked for.
func testHNSW(dim int) *Index {
	return New(dim, Params{M: 8, EfConstruction: 64, EfSearch: 32})
}

// overlap is the share of want's documents that got holds.
func overlap(got, want []Hit) float64 {
	if len(want) == 0 {
		return 1
	}
	in := make(map[string]bool, len(got))
	for _, h := range got {
		in[h.ID] = true
	}
	n := 0
	for _, h := range want {
		if in[h.ID] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

// searcher is what Index and Flat have in common.
type searcher interface {
	Search(q []float32, limit int, f *Filter) ([]Hit, error)
}

func mustSearchIndex(t testing.TB, x searcher, q []float32, limit int, f *Filter) []Hit {
	t.Helper()
	hits, err := x.Search(q, limit, f)
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// twin feeds the same operations to the graph and to the exact index.
type twin struct {
	ann  *Index
	flat *Flat
}

func newTwin(dim int) twin { return twin{testHNSW(dim), NewFlat(dim)} }

func (w twin) Put(t *testing.T, id string, vecs ...[]float32) {
	t.Helper()
	if err := w.ann.Put(id, vecs); err != nil {
		t.Fatal(err)
	}
	if err := w.flat.Put(id, vecs); err != nil {
		t.Fatal(err)
	}
}

func (w twin) Delete(id string) {
	w.ann.Delete(id)
	w.flat.Delete(id)
}

// recall searches both with each query and returns the mean overlap of the
// top 10, checking on the way that every hit is allowed, unique and scored
// as the exact index scores that passage.
func (w twin) recall(t *testing.T, queries [][]float32, f *Filter) float64 {
	t.Helper()
	var sum float64
	for _, q := range queries {
		want := mustSearchIndex(t, w.flat, q, 10, f)
		got := mustSearchIndex(t, w.ann, q, 10, f)
		if len(got) != len(want) {
			t.Fatalf("graph found %d documents, exact %d", len(got), len(want))
		}
		seen := map[string]bool{}
		for _, h := range got {
			if seen[h.ID] || !f.allows(h.ID) {
				t.Fatalf("hit %+v is repeated or filtered out", h)
			}
			seen[h.ID] = true
		}
		sum += overlap(got, want)
	}
	return sum / float64(len(queries))
}

func TestHNSWRecall(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 1500
	}
	vecs := vectorset.Clustered(n+100, 24, 1)
	w := newTwin(24)
	for i, v := range vecs[:n] {
		w.Put(t, strconv.Itoa(i), v)
	}
	if r := w.recall(t, vecs[n:], nil); r < 0.95 {
		t.Errorf("recall@10 = %.3f, want >= 0.95", r)
	}
}

func TestHNSWReplaceAndDelete(t *testing.T) {
	vecs := vectorset.Clustered(3100, 16, 2)
	queries := vecs[3000:] // drawn like the documents, as real queries are
	w := newTwin(16)
	// Documents of one to three passages.
	for i := 0; i < 1500; i++ {
		w.Put(t, strconv.Itoa(i), vecs[i:i+1+i%3]...)
	}
	for i := 0; i < 1500; i += 5 { // replace a fifth with other vectors
		w.Put(t, strconv.Itoa(i), vecs[1500+i:1500+i+1+i%2]...)
	}
	for i := 1; i < 1500; i += 7 { // delete a seventh
		w.Delete(strconv.Itoa(i))
	}
	w.Delete("no such document")
	if r := w.recall(t, queries, nil); r < 0.95 {
		t.Errorf("recall@10 after replacing and deleting = %.3f, want >= 0.95", r)
	}
	for _, q := range queries {
		for _, h := range mustSearchIndex(t, w.ann, q, 10, nil) {
			i, _ := strconv.Atoi(h.ID)
			if i%7 == 1 {
				t.Fatalf("deleted document %s returned", h.ID)
			}
			// The hit's score must be that of the passage it names, in
			// the document's current version.
			d := w.ann.docNums[h.ID]
			n := w.ann.docNodes[d][h.Passage]
			if got := float64(dot(normalized(q), w.ann.vector(n))); got != h.Score {
				t.Fatalf("hit %+v: passage %d scores %v", h, h.Passage, got)
			}
		}
	}
	if w.ann.live != len(w.flat.owner)-w.flat.dead {
		t.Errorf("live passages: graph %d, exact %d", w.ann.live, len(w.flat.owner)-w.flat.dead)
	}
}

func normalized(v []float32) []float32 {
	v = slices.Clone(v)
	Normalize(v)
	return v
}

func TestHNSWExactScanEqualsFlat(t *testing.T) {
	vecs := vectorset.Clustered(620, 8, 4)
	w := newTwin(8)
	w.ann.p.ExactBelow = math.MaxInt
	for i := 0; i < 300; i++ {
		w.Put(t, strconv.Itoa(i), vecs[i], vecs[300+i])
	}
	filters := []*Filter{nil, idSet(false, 0, 10, 20, 30, 299), idSet(true, 1, 2, 3)}
	for _, f := range filters {
		for _, q := range vecs[600:] {
			want := mustSearchIndex(t, w.flat, q, 10, f)
			got := mustSearchIndex(t, w.ann, q, 10, f)
			if !slices.Equal(got, want) {
				t.Fatalf("filter %v: exact scan %v, flat index %v", f, got, want)
			}
		}
	}
}

func idSet(exclude bool, ids ...int) *Filter {
	f := &Filter{IDs: map[string]struct{}{}, Exclude: exclude}
	for _, i := range ids {
		f.IDs[strconv.Itoa(i)] = struct{}{}
	}
	return f
}

func TestHNSWFilteredSearchFillsResults(t *testing.T) {
	const n = 3000
	vecs := vectorset.Clustered(n+30, 16, 6)
	queries := vecs[n:]
	w := newTwin(16)
	for i, v := range vecs[:n] {
		w.Put(t, strconv.Itoa(i), v)
	}
	every := func(k int, exclude bool) *Filter {
		var ids []int
		for i := 0; i < n; i += k {
			ids = append(ids, i)
		}
		return idSet(exclude, ids...)
	}
	allBut := make([]int, 0, n)
	for i := 5; i < n; i++ {
		allBut = append(allBut, i)
	}
	tests := []struct {
		name string
		f    *Filter
	}{
		{"include 7 documents", idSet(false, 3, 30, 300, 1000, 2000, 2500, 2999)},
		{"include every 50th", every(50, false)},
		{"include every 3rd", every(3, false)},
		{"include half", every(2, false)},
		{"exclude every 2nd", every(2, true)},
		{"exclude every 10th", every(10, true)},
		{"exclude all but 5", idSet(true, allBut...)},
		{"include unknown documents", idSet(false, -1, -2)},
	}
	for _, policy := range []struct {
		name       string
		exactBelow int
	}{{"cheaper path", 0}, {"walk first", -1}} {
		w.ann.p.ExactBelow = policy.exactBelow
		for _, tc := range tests {
			t.Run(policy.name+"/"+tc.name, func(t *testing.T) {
				if r := w.recall(t, queries, tc.f); r < 0.9 {
					t.Errorf("recall@10 = %.3f, want >= 0.9", r)
				}
			})
		}
	}
}

func TestHNSWConcurrentSearchAndWrite(t *testing.T) {
	vecs := vectorset.Clustered(1200, 8, 8)
	x := testHNSW(8)
	for i, v := range vecs[:400] {
		if err := x.Put(strconv.Itoa(i), [][]float32{v}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			f := idSet(g%2 == 1, 1, 2, 3)
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				hits, err := x.Search(vecs[(g*97+i)%len(vecs)], 10, f)
				if err != nil || len(hits) == 0 {
					t.Errorf("search during writes: %v, %d hits", err, len(hits))
					return
				}
			}
		})
	}
	// Under -short fewer writes race the searchers: 4 busy searchers on 2
	// cores slow every write down.
	writes := vecs[400:]
	if testing.Short() {
		writes = vecs[400:700]
	}
	for i, v := range writes {
		id := strconv.Itoa(i % 600)
		if i%5 == 4 {
			x.Delete(id)
			continue
		}
		if err := x.Put(id, [][]float32{v, vecs[i]}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
}

// TestHNSWDeterministic: the same operations build the same graph, which is
// what lets a snapshot plus the log's tail stand in for the whole log.
func TestHNSWDeterministic(t *testing.T) {
	vecs := vectorset.Clustered(800, 8, 9)
	build := func() *Index {
		x := testHNSW(8)
		for i, v := range vecs {
			if err := x.Put(strconv.Itoa(i%500), [][]float32{v}); err != nil {
				t.Fatal(err)
			}
			if i%9 == 0 {
				x.Delete(strconv.Itoa(i / 2))
			}
		}
		return x
	}
	if !sameGraph(build(), build()) {
		t.Fatal("two builds from the same operations differ")
	}
}

// sameGraph reports whether two indexes have the same nodes and links.
func sameGraph(a, b *Index) bool {
	if len(a.doc) != len(b.doc) || a.entry != b.entry || a.maxLevel != b.maxLevel {
		return false
	}
	for n := range int32(len(a.doc)) {
		if !slices.Equal(a.block(n, 0), b.block(n, 0)) || !slices.Equal(a.upper[n], b.upper[n]) ||
			a.doc[n] != b.doc[n] || a.ord[n] != b.ord[n] {
			return false
		}
	}
	return true
}

func TestNodeLevelDistribution(t *testing.T) {
	const n, m = 200_000, 16
	mult := 1 / math.Log(m)
	counts := make([]int, maxHNSWLevel+1)
	for i := range n {
		counts[nodeLevel(int32(i), mult)]++
	}
	// P(level >= l) = m^-l.
	for l, want := range []float64{1, 1.0 / m, 1.0 / (m * m)} {
		above := 0
		for _, c := range counts[l:] {
			above += c
		}
		if got := float64(above) / n; math.Abs(got-want) > 0.1*want+0.001 {
			t.Errorf("share at level >= %d = %.4f, want %.4f", l, got, want)
		}
	}
}

func TestHNSWDimensionChecks(t *testing.T) {
	x := testHNSW(3)
	if err := x.Put("a", [][]float32{{1, 0}}); err == nil {
		t.Error("2-dim passage accepted by a 3-dim index")
	}
	if _, err := x.Search([]float32{1}, 1, nil); err == nil {
		t.Error("1-dim query accepted by a 3-dim index")
	}
	if hits := mustSearchIndex(t, x, []float32{1, 0, 0}, 5, nil); len(hits) != 0 {
		t.Errorf("empty index returned %v", hits)
	}
	if err := x.Put("empty", nil); err != nil {
		t.Fatal(err)
	}
	if hits := mustSearchIndex(t, x, []float32{1, 0, 0}, 5, nil); len(hits) != 0 {
		t.Errorf("index of a document without passages returned %v", hits)
	}
}
