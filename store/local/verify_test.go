package local

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari/internal/dirlock"
	"github.com/cari-search/cari/store"
)

// filledVectorStore writes three batches of documents with vectors, deletes
// and replaces some, and closes the store, returning its directory and
// generation name.
func filledVectorStore(t *testing.T) (dir, gen string) {
	t.Helper()
	dir = t.TempDir()
	s, err := Open(dir, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	for b := range 3 {
		var es []store.Entry
		for i := range 40 {
			es = append(es, vecEntry(fmt.Sprintf("d%d-%d", b, i), "example.com",
				[]float32{1, float32(i), float32(b)}, []float32{float32(i), 1, 0}))
		}
		if err := s.Upsert(context.Background(), es); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Delete(context.Background(), []string{"d0-1", "d1-2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(context.Background(), []store.Entry{vecEntry("d2-3", "example.org", []float32{0, 0, 1})}); err != nil {
		t.Fatal(err)
	}
	gen = s.Generation().Name
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, gen
}

func TestVerifyWholeStore(t *testing.T) {
	dir, _ := filledVectorStore(t)
	s, err := Open(dir, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep, err := s.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("problems in a whole store: %v", rep.Problems)
	}
	// 120 written, 2 deleted; d2-3 now has one passage instead of two.
	if rep.Documents != 118 || rep.Passages != 235 || rep.VectorDocuments != 118 || rep.VectorPassages != 235 {
		t.Errorf("report %+v, want 118 documents and 235 passages on both sides", rep)
	}
	if rep.Segments == 0 {
		t.Error("no keyword segment was checked")
	}
}

// TestVerifyDirWithoutModel checks that a directory verifies without the
// model it was built with: the vector log is checked all the same.
func TestVerifyDirWithoutModel(t *testing.T) {
	dir, _ := filledVectorStore(t)
	rep, err := VerifyDir(context.Background(), dir, nil)
	if err != nil || !rep.OK() || rep.VectorPassages != 235 {
		t.Errorf("VerifyDir = %+v, %v; want a whole store with 235 vectors", rep, err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyDir(context.Background(), filepath.Join(file, "data"), nil); err == nil {
		t.Error("VerifyDir under a file succeeded")
	}
}

// TestVerifyFindsDisagreement makes the stores disagree behind the Store's
// back, as a bug would, and expects Verify to say so.
func TestVerifyFindsDisagreement(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(t *testing.T, s *Store)
		want   string
	}{
		{"orphan vectors", func(t *testing.T, s *Store) {
			end, err := s.serving.vlog.append([]vectorRecord{{op: opPut, id: "ghost", vectors: [][]float32{{1, 2, 3}}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.serving.idx.SetInternal(vlogKey, binary.LittleEndian.AppendUint64(nil, uint64(end))); err != nil {
				t.Fatal(err)
			}
			s.serving.vlog.commit(end)
		}, `orphan vectors: document "ghost"`},
		{"vectors missing", func(t *testing.T, s *Store) {
			end, err := s.serving.vlog.append([]vectorRecord{{op: opDelete, id: "d1-5"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.serving.idx.SetInternal(vlogKey, binary.LittleEndian.AppendUint64(nil, uint64(end))); err != nil {
				t.Fatal(err)
			}
			s.serving.vlog.commit(end)
		}, `document "d1-5" is stored with 2 passages and has no vectors`},
		{"statistics off", func(t *testing.T, s *Store) {
			b := s.serving.idx.NewBatch()
			if err := setStats(b, corpusStats{Docs: 7, Chunks: 9, BodyTokens: 11}); err != nil {
				t.Fatal(err)
			}
			if err := s.serving.idx.Batch(b); err != nil {
				t.Fatal(err)
			}
		}, "corpus statistics say 7 documents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := filledVectorStore(t)
			s, err := Open(dir, Options{Vectors: space3})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			tt.break_(t, s)
			rep, err := s.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, p := range rep.Problems {
				found = found || strings.Contains(p.What, tt.want)
			}
			if !found {
				t.Errorf("problems %v, want one saying %q", rep.Problems, tt.want)
			}
		})
	}
}

// TestOpenDetectsDamagedFiles damages each file of a data directory and
// expects Open to fail with an error naming the file and saying how to
// repair, or, where the damage is harmless (a derived file), to open and
// answer as before. Nothing may panic.
func TestOpenDetectsDamagedFiles(t *testing.T) {
	storeDir := func(dir, gen string) string { return filepath.Join(dir, generationsDir, gen, keywordDir, "store") }
	zaps := func(t *testing.T, dir, gen string) []string {
		files, _ := filepath.Glob(filepath.Join(storeDir(dir, gen), "*.zap"))
		if len(files) == 0 {
			t.Fatal("no segment files")
		}
		return files
	}
	tests := []struct {
		name     string
		damage   func(t *testing.T, dir, gen string)
		wantPath string // "" when the store must open and answer as before
	}{
		{"segment byte flipped", func(t *testing.T, dir, gen string) {
			for _, f := range zaps(t, dir, gen) {
				flipByte(t, f, 0.5)
			}
		}, filepath.Join(keywordDir, "store")},
		{"segment footer flipped", func(t *testing.T, dir, gen string) {
			for _, f := range zaps(t, dir, gen) {
				flipByte(t, f, -20)
			}
		}, filepath.Join(keywordDir, "store")},
		{"segment truncated", func(t *testing.T, dir, gen string) {
			for _, f := range zaps(t, dir, gen) {
				truncateTo(t, f, 0.5)
			}
		}, filepath.Join(keywordDir, "store")},
		{"segment emptied", func(t *testing.T, dir, gen string) {
			for _, f := range zaps(t, dir, gen) {
				truncateTo(t, f, 0)
			}
		}, filepath.Join(keywordDir, "store")},
		{"root.bolt pages flipped", func(t *testing.T, dir, gen string) {
			path := filepath.Join(storeDir(dir, gen), "root.bolt")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := 4096; i < len(b); i += 97 {
				b[i] ^= 0xff
			}
			writeFile(t, path, string(b))
		}, filepath.Join(keywordDir, "store", "root.bolt")},
		{"root.bolt emptied", func(t *testing.T, dir, gen string) {
			truncateTo(t, filepath.Join(storeDir(dir, gen), "root.bolt"), 0)
		}, filepath.Join(keywordDir, "store", "root.bolt")},
		{"vector log truncated", func(t *testing.T, dir, gen string) {
			truncateTo(t, filepath.Join(dir, generationsDir, gen, vectorLogFile), 0.5)
		}, vectorLogFile},
		{"vector log byte flipped", func(t *testing.T, dir, gen string) {
			flipByte(t, filepath.Join(dir, generationsDir, gen, vectorLogFile), 0.3)
		}, vectorLogFile},
		{"manifest truncated", func(t *testing.T, dir, gen string) {
			truncateTo(t, filepath.Join(dir, generationsDir, gen, manifestFile), 0.5)
		}, manifestFile},
		{"CURRENT truncated", func(t *testing.T, dir, _ string) {
			truncateTo(t, filepath.Join(dir, currentFile), 0.5)
		}, currentFile},
		// The HNSW snapshot is derived from the vector log: damage costs a
		// rebuild, never a wrong answer.
		{"vector snapshot byte flipped", func(t *testing.T, dir, gen string) {
			flipByte(t, filepath.Join(dir, generationsDir, gen, annSnapshotFile), 0.5)
		}, ""},
		{"vector snapshot truncated", func(t *testing.T, dir, gen string) {
			truncateTo(t, filepath.Join(dir, generationsDir, gen, annSnapshotFile), 0.5)
		}, ""},
	}
	// Every case damages its own copy of one directory, built, opened and
	// closed once: building it costs a dozen committed writes.
	query := []float32{1, 7, 2}
	template, gen := filledVectorStore(t)
	s, err := Open(template, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	before := vecIDs(searchVec(t, s, query, 10, store.Filter{}))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(template)); err != nil {
				t.Fatal(err)
			}
			tt.damage(t, dir, gen)

			s, err := Open(dir, Options{Vectors: space3})
			if tt.wantPath == "" {
				if err != nil {
					t.Fatalf("Open after damage to a derived file: %v", err)
				}
				defer s.Close()
				if after := vecIDs(searchVec(t, s, query, 10, store.Filter{})); !slices.Equal(after, before) {
					t.Errorf("results after the damage %v, before %v", after, before)
				}
				if rep, err := s.Verify(context.Background()); err != nil || !rep.OK() {
					t.Errorf("Verify after rebuild: %v %v", rep.Problems, err)
				}
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("Open of a damaged directory succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantPath) {
				t.Errorf("error %q does not name %s", err, tt.wantPath)
			}
			if !strings.Contains(err.Error(), "cari ") {
				t.Errorf("error %q does not say how to repair", err)
			}
			lock, err := dirlock.Lock(dir, dirlock.Self(""))
			if err != nil {
				t.Fatalf("lock after failed Open: %v", err)
			}
			lock.Close()
		})
	}
}

// flipByte inverts one byte of path: at that fraction of its length, or,
// when at is negative, that many bytes from its end.
func flipByte(t *testing.T, path string, at float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := int(at * float64(len(b)))
	if at < 0 {
		i = len(b) + int(at)
	}
	b[i] ^= 0xff
	writeFile(t, path, string(b))
}

// truncateTo cuts path to that fraction of its length.
func truncateTo(t *testing.T, path string, frac float64) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(frac*float64(info.Size()))); err != nil {
		t.Fatal(err)
	}
}
