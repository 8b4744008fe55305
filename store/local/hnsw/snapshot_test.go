package hnsw

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/cari-search/cari/store/local/hnsw/vectorset"
)

func TestSnapshotRoundTrip(t *testing.T) {
	vecs := vectorset.Clustered(1100, 8, 12)
	x := testHNSW(8)
	x.p.ExactBelow = -1
	for i, v := range vecs[:1000] {
		if err := x.Put(strconv.Itoa(i%700), [][]float32{v, vecs[999-i]}); err != nil {
			t.Fatal(err)
		}
		if i%11 == 0 {
			x.Delete(strconv.Itoa(i / 3))
		}
	}
	path := filepath.Join(t.TempDir(), "vectors.hnsw")
	mark := Mark{Offset: 12345, Records: x.records}
	writeSnapshot(t, x, path, mark)
	if x.LastSnapshot() != (Mark{}) {
		t.Errorf("a snapshot written but not yet durable is the last: %+v", x.LastSnapshot())
	}
	x.SnapshotWritten(mark)
	if x.LastSnapshot() != mark || x.SnapshotDue() {
		t.Errorf("after SnapshotWritten: last %+v, due %v; want %+v, not due", x.LastSnapshot(), x.SnapshotDue(), mark)
	}
	y, got, err := ReadSnapshot(path, 8, x.p)
	if err != nil {
		t.Fatal(err)
	}
	if got != mark || y.snapshot != mark || y.records != x.records {
		t.Errorf("mark read back = %+v, index %+v/%d; want %+v", got, y.snapshot, y.records, mark)
	}
	if !sameGraph(x, y) || !slices.Equal(y.docIDs, x.docIDs) || !slices.Equal(y.state, x.state) ||
		y.live != x.live || y.liveDocs != x.liveDocs {
		t.Fatal("index read back differs from the one written")
	}
	for n := range int32(len(x.doc)) {
		if !slices.Equal(x.vector(n), y.vector(n)) {
			t.Fatalf("vector of node %d read back differs", n)
		}
	}
	for _, q := range vecs[1000:] {
		a, b := mustSearchIndex(t, x, q, 10, nil), mustSearchIndex(t, y, q, 10, nil)
		if !slices.Equal(a, b) {
			t.Fatalf("search after reading back = %v, before %v", b, a)
		}
	}

	// Every damage is an error, never a panic or a wrong index.
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{0, 7, 20, 60, len(good) / 2, len(good) - 4, len(good) - 1} {
		if err := os.WriteFile(path, good[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ReadSnapshot(path, 8, x.p); err == nil {
			t.Errorf("snapshot cut to %d of %d bytes was read", cut, len(good))
		}
	}
	for _, at := range []int{9, 40, 52, 100, len(good) / 3, len(good) - 2} {
		bad := slices.Clone(good)
		bad[at] ^= 0x40
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ReadSnapshot(path, 8, x.p); err == nil {
			t.Errorf("snapshot with byte %d flipped was read", at)
		}
	}
	if _, _, err := ReadSnapshot(path, 9, x.p); err == nil {
		t.Error("snapshot of 8 dimensions read as 9")
	}
}

// writeSnapshot writes x's snapshot covering mark to path.
func writeSnapshot(t *testing.T, x *Index, path string, mark Mark) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(x.WriteSnapshot(f, mark), f.Close()); err != nil {
		t.Fatal(err)
	}
}
