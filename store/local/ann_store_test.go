package local

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cari-search/cari/store"
)

func TestSnapshotRoundTrip(t *testing.T) {
	vecs := clustered(1100, 8, 12)
	x := testHNSW(8)
	x.p.ExactBelow = -1
	for i, v := range vecs[:1000] {
		if err := x.put(strconv.Itoa(i%700), [][]float32{v, vecs[999-i]}); err != nil {
			t.Fatal(err)
		}
		if i%11 == 0 {
			x.delete(strconv.Itoa(i / 3))
		}
	}
	path := filepath.Join(t.TempDir(), annSnapshotFile)
	mark := snapshotMark{offset: 12345, records: x.records}
	if err := x.writeSnapshot(path, mark); err != nil {
		t.Fatal(err)
	}
	y, got, err := readSnapshot(path, 8, x.p)
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
		if _, _, err := readSnapshot(path, 8, x.p); err == nil {
			t.Errorf("snapshot cut to %d of %d bytes was read", cut, len(good))
		}
	}
	for _, at := range []int{9, 40, 52, 100, len(good) / 3, len(good) - 2} {
		bad := slices.Clone(good)
		bad[at] ^= 0x40
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := readSnapshot(path, 8, x.p); err == nil {
			t.Errorf("snapshot with byte %d flipped was read", at)
		}
	}
	if _, _, err := readSnapshot(path, 9, x.p); err == nil {
		t.Error("snapshot of 8 dimensions read as 9")
	}
}

// snapshotSpace has enough passages (3 per document) after the first round
// of writes that searches walk the graph instead of scanning.
var snapshotSpace = VectorSpace{Model: "test/clusters@1", Dim: 16}

// writeRound adds 1,000 documents of 3 passages, replaces 100 earlier ones
// and deletes 50, in batches as cari index writes them.
func writeRound(t *testing.T, s *Store, round int, vecs [][]float32) {
	t.Helper()
	ctx := context.Background()
	next := func(i int) []float32 { return vecs[(round*3100+i)%len(vecs)] }
	var batch []store.Entry
	flush := func() {
		if err := s.Upsert(ctx, batch); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range 1000 {
		id := "r" + strconv.Itoa(round) + "-" + strconv.Itoa(i)
		batch = append(batch, vecEntry(id, "", next(3*i), next(3*i+1), next(3*i+2)))
		if len(batch) == 200 {
			flush()
		}
	}
	for i := 0; round > 0 && i < 100; i++ {
		id := "r" + strconv.Itoa(round-1) + "-" + strconv.Itoa(i*5)
		batch = append(batch, vecEntry(id, "", next(3000+i)))
	}
	flush()
	if round > 0 {
		var gone []string
		for i := range 50 {
			gone = append(gone, "r"+strconv.Itoa(round-1)+"-"+strconv.Itoa(i*5+1))
		}
		if _, err := s.Delete(ctx, gone); err != nil {
			t.Fatal(err)
		}
	}
}

// openLogged opens dir with a logger whose output the test reads.
func openLogged(t *testing.T, dir string) (*Store, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	s, err := Open(dir, Options{Vectors: snapshotSpace,
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return s, &buf
}

// answers runs the queries on dir's store and closes it again. The graph's
// fingerprint comes first among the answers, so that equal answers mean an
// equal graph too, not only searches that happen to agree.
func answers(t *testing.T, dir string, queries [][]float32) ([][]store.Hit, string) {
	t.Helper()
	s, log := openLogged(t, dir)
	defer s.Close()
	x, ok := s.serving.vecs.(*hnswIndex)
	if !ok {
		t.Fatalf("store searches a %T", s.serving.vecs)
	}
	h := crc32.New(crc32c)
	for n := range int32(len(x.doc)) {
		binary.Write(h, binary.LittleEndian, x.block(n, 0))
	}
	for _, up := range x.upper {
		binary.Write(h, binary.LittleEndian, up)
	}
	binary.Write(h, binary.LittleEndian, []int32{x.entry, int32(x.maxLevel), int32(len(x.doc))})
	out := [][]store.Hit{{{ID: "graph", Score: float64(h.Sum32())}}}

	for _, q := range queries {
		out = append(out, searchVec(t, s, q, 10, store.Filter{}))
	}
	return out, log.String()
}

func snapshotPath(t *testing.T, dir string) string {
	t.Helper()
	gens, err := filepath.Glob(filepath.Join(dir, generationsDir, "*", annSnapshotFile))
	if err != nil || len(gens) != 1 {
		t.Fatalf("snapshot files in %s: %v, %v", dir, gens, err)
	}
	return gens[0]
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		dst, err := os.Create(filepath.Join(to, rel))
		if err != nil {
			return err
		}
		if _, err := io.Copy(dst, src); err != nil {
			dst.Close()
			return err
		}
		return dst.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestVectorSnapshotCrashScenarios: however the snapshot was left (current,
// older than the log, absent, damaged, ahead of the log, of another log),
// opening gives the same answers as building the index from the log alone.
func TestVectorSnapshotCrashScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 3,000 documents and reopens the store a dozen times")
	}
	vecs := clustered(9320, snapshotSpace.Dim, 13)
	queries := vecs[9300:]
	base := t.TempDir()
	live := filepath.Join(base, "live")

	s, _ := openLogged(t, live)
	writeRound(t, s, 0, vecs)
	s.Close()
	round1 := filepath.Join(base, "round1")
	copyDir(t, live, round1)
	oldSnapshot, err := os.ReadFile(snapshotPath(t, live))
	if err != nil {
		t.Fatal(err)
	}
	s, _ = openLogged(t, live)
	writeRound(t, s, 1, vecs)
	idx := s.serving.vecs.(*hnswIndex)
	if idx.live <= idx.p.ExactBelow {
		t.Fatalf("%d passages: searches would scan instead of walking the graph", idx.live)
	}
	s.Close()
	currentSnapshot, err := os.ReadFile(snapshotPath(t, live))
	if err != nil {
		t.Fatal(err)
	}

	fresh := func(dir string) [][]store.Hit {
		ref := filepath.Join(base, "fresh-"+filepath.Base(dir))
		copyDir(t, dir, ref)
		if err := os.Remove(snapshotPath(t, ref)); err != nil {
			t.Fatal(err)
		}
		want, log := answers(t, ref, queries)
		if !strings.Contains(log, "built vector index from the vector log") || strings.Contains(log, "level=WARN") {
			t.Fatalf("open without a snapshot logged:\n%s", log)
		}
		return want
	}
	want := fresh(live)

	tests := []struct {
		name    string
		from    string // data directory to start from
		prepare func(path string) error
		log     string // expected in the log
	}{
		{"current", live, func(string) error { return nil }, "replayed_records=0"},
		{"older than the log", live, func(p string) error { return os.WriteFile(p, oldSnapshot, 0o644) }, "loaded vector index snapshot"},
		{"absent", live, os.Remove, "built vector index from the vector log"},
		{"damaged", live, func(p string) error {
			bad := slices.Clone(currentSnapshot)
			bad[len(bad)/2] ^= 1
			return os.WriteFile(p, bad, 0o644)
		}, "snapshot is unreadable"},
		{"cut short", live, func(p string) error { return os.WriteFile(p, currentSnapshot[:len(currentSnapshot)/3], 0o644) }, "snapshot is unreadable"},
		{"empty", live, func(p string) error { return os.WriteFile(p, nil, 0o644) }, "snapshot is unreadable"},
		{"of another log", live, func(p string) error {
			return idx.writeSnapshot(p, snapshotMark{offset: idx.snapshot.offset, records: idx.records + 1})
		}, "does not match the vector log"},
		{"not on a record boundary", live, func(p string) error {
			return idx.writeSnapshot(p, snapshotMark{offset: idx.snapshot.offset - 3, records: idx.records})
		}, "does not match the vector log"},
		{"ahead of the log", round1, func(p string) error { return os.WriteFile(p, currentSnapshot, 0o644) }, "ahead of the committed vector log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(base, strings.ReplaceAll(tc.name, " ", "-"))
			copyDir(t, tc.from, dir)
			if err := tc.prepare(snapshotPath(t, dir)); err != nil {
				t.Fatal(err)
			}
			expect := want
			if tc.from != live {
				expect = fresh(tc.from)
			}
			got, log := answers(t, dir, queries)
			if !strings.Contains(log, tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, log)
			}
			if got[0][0] != expect[0][0] {
				t.Fatalf("graph fingerprint %v, a fresh build's %v", got[0][0].Score, expect[0][0].Score)
			}
			for i := 1; i < len(expect); i++ {
				if !slices.Equal(got[i], expect[i]) {
					t.Fatalf("query %d: %v, a fresh build answers %v", i-1, got[i], expect[i])
				}
			}
		})
	}

	// A store opened from an old snapshot goes on writing, and its next
	// snapshot serves the next open.
	dir := filepath.Join(base, "older-than-the-log")
	s, _ = openLogged(t, dir)
	writeRound(t, s, 2, vecs)
	s.Close()
	got, log := answers(t, dir, queries)
	if !strings.Contains(log, "replayed_records=0") {
		t.Errorf("reopen after writes did not use the Close snapshot:\n%s", log)
	}
	if want := fresh(dir); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("after more writes: %v, a fresh build answers %v", got, want)
	}
}
