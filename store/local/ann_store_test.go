package local

import (
	"bytes"
	"context"
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
	"github.com/cari-search/cari/store/local/hnsw"
	"github.com/cari-search/cari/store/local/hnsw/vectorset"
)

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
	x, ok := s.serving.vecs.(*hnsw.Index)
	if !ok {
		t.Fatalf("store searches a %T", s.serving.vecs)
	}
	// The snapshot encoding holds the whole graph: nodes, levels, links,
	// entry point, vectors and documents.
	h := crc32.New(crc32c)
	if err := x.WriteSnapshot(h, hnsw.Mark{}); err != nil {
		t.Fatal(err)
	}
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
	vecs := vectorset.Clustered(9320, snapshotSpace.Dim, 13)
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
	idx := s.serving.vecs.(*hnsw.Index)
	if idx.ScansExactly() {
		t.Fatalf("%d passages: searches would scan instead of walking the graph", idx.Stats().Passages)
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
			return writeSnapshot(p, idx, hnsw.Mark{Offset: idx.LastSnapshot().Offset, Records: idx.Records() + 1})
		}, "does not match the vector log"},
		{"not on a record boundary", live, func(p string) error {
			return writeSnapshot(p, idx, hnsw.Mark{Offset: idx.LastSnapshot().Offset - 3, Records: idx.Records()})
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
