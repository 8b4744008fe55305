package local

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/internal/dirlock"
	"github.com/cari-search/cari/store"
)

// newStore opens a store in a fresh directory and closes it when the test ends.
func newStore(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// upsert normalizes docs, as the indexer does, and writes them in one batch.
func upsert(t *testing.T, s *Store, docs ...cari.Document) {
	t.Helper()
	for i := range docs {
		if err := docs[i].Normalize(); err != nil {
			t.Fatalf("normalize %q: %v", docs[i].ID, err)
		}
	}
	if err := s.Upsert(context.Background(), entries(docs...)); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
}

// mustSearch runs a keyword query that must succeed.
func mustSearch(t *testing.T, s *Store, q store.KeywordQuery) []store.Hit {
	t.Helper()
	hits, err := s.SearchKeyword(context.Background(), q)
	if err != nil {
		t.Fatalf("SearchKeyword(%+v): %v", q, err)
	}
	return hits
}

func hitIDs(hits []store.Hit) []string {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	return ids
}

// sortedHitIDs is hitIDs in ID order, for comparing result sets.
func sortedHitIDs(hits []store.Hit) []string {
	ids := hitIDs(hits)
	slices.Sort(ids)
	return ids
}

func doc(id, text string) cari.Document { return cari.Document{ID: id, Text: text} }

func TestOpenCreatesAndReopens(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data") // Open creates missing parents
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open new dir: %v", err)
	}
	gen := s.Generation()
	if gen.Name == "" || gen.Format != formatVersion || gen.Analyzer != bodyAnalyzer {
		t.Errorf("Generation() = %+v, want a named format-%d generation with analyzer %q", gen, formatVersion, bodyAnalyzer)
	}
	if s.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", s.Dir(), dir)
	}
	for _, name := range []string{currentFile, dirlock.File, filepath.Join(generationsDir, gen.Name, manifestFile)} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("new data directory lacks %s: %v", name, err)
		}
	}
	upsert(t, s, doc("1", "persistent whale"), doc("2", "another whale"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if got := s.Generation().Name; got != gen.Name {
		t.Errorf("reopened generation %q, want the same %q", got, gen.Name)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != 2 || st.Chunks != 2 || st.Generation != gen.Name || st.DiskBytes <= 0 {
		t.Errorf("Stats after reopen = %+v, want 2 documents of generation %s on disk", st, gen.Name)
	}
	if got := sortedHitIDs(mustSearch(t, s, store.KeywordQuery{Text: "whale", Limit: 10})); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("search after reopen = %v, want [1 2]", got)
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s2, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("second Open while open: err = %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s.Close()
}

func TestOpenDamaged(t *testing.T) {
	tests := []struct {
		name     string
		damage   func(t *testing.T, dir, gen string)
		wantPath string // relative to the data directory
	}{
		{"CURRENT not a name", func(t *testing.T, dir, _ string) {
			writeFile(t, filepath.Join(dir, currentFile), "../../etc\n")
		}, currentFile},
		{"CURRENT binary garbage", func(t *testing.T, dir, _ string) {
			writeFile(t, filepath.Join(dir, currentFile), "\x00\xff\xfe")
		}, currentFile},
		{"CURRENT empty", func(t *testing.T, dir, _ string) {
			writeFile(t, filepath.Join(dir, currentFile), "")
		}, currentFile},
		{"CURRENT names a missing generation", func(t *testing.T, dir, _ string) {
			writeFile(t, filepath.Join(dir, currentFile), "gen-missing\n")
		}, filepath.Join(generationsDir, "gen-missing", manifestFile)},
		{"manifest not JSON", func(t *testing.T, dir, gen string) {
			writeFile(t, filepath.Join(dir, generationsDir, gen, manifestFile), "{not json")
		}, filepath.Join(generationsDir, "GEN", manifestFile)},
		{"manifest of a future format", func(t *testing.T, dir, gen string) {
			writeFile(t, filepath.Join(dir, generationsDir, gen, manifestFile), `{"format": 99, "analyzer": "en"}`)
		}, filepath.Join(generationsDir, "GEN", manifestFile)},
		{"keyword index missing", func(t *testing.T, dir, gen string) {
			if err := os.RemoveAll(filepath.Join(dir, generationsDir, gen, keywordDir)); err != nil {
				t.Fatal(err)
			}
		}, filepath.Join(generationsDir, "GEN", keywordDir)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			gen := s.Generation().Name
			s.Close()
			tt.damage(t, dir, gen)

			s, err = Open(dir, Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open of a damaged directory succeeded")
			}
			want := filepath.Join(dir, strings.Replace(tt.wantPath, "GEN", gen, 1))
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
			// A failed Open must release the lock, or the user cannot retry.
			lock, err := dirlock.Lock(dir, dirlock.Self(""))
			if err != nil {
				t.Fatalf("lock after failed Open: %v", err)
			}
			lock.Close()
		})
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRejectsBadBM25(t *testing.T) {
	for _, p := range []store.BM25{{K1: -1, B: 0.5}, {K1: 1, B: 1.5}} {
		if s, err := Open(t.TempDir(), Options{BM25: p}); err == nil {
			s.Close()
			t.Errorf("Open with %+v succeeded", p)
		}
	}
}

func TestClosedStore(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	calls := map[string]func() error{
		"SearchKeyword": func() error {
			_, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: "x", Limit: 1})
			return err
		},
		"Documents": func() error { _, err := s.Documents(ctx, []string{"x"}); return err },
		"Stats":     func() error { _, err := s.Stats(ctx); return err },
		"Upsert":    func() error { return s.Upsert(ctx, entries(doc("x", "x"))) },
		"Delete":    func() error { _, err := s.Delete(ctx, []string{"x"}); return err },
	}
	for name, call := range calls {
		if err := call(); err == nil {
			t.Errorf("%s on a closed store succeeded", name)
		}
	}
}

// TestMustExist: a command that only reads an index never creates one: a
// missing or empty directory is ErrNoIndex naming it, and stays as it was;
// VerifyDir and Repair read only; a directory Open created is found again.
func TestMustExist(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "typo")
	_, err := Open(dir, Options{MustExist: true})
	if !errors.Is(err, ErrNoIndex) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Open with MustExist on a missing directory: %v, want ErrNoIndex naming it", err)
	}
	if _, err := VerifyDir(context.Background(), dir, nil); !errors.Is(err, ErrNoIndex) {
		t.Errorf("VerifyDir on a missing directory: %v, want ErrNoIndex", err)
	}
	if _, err := Repair(context.Background(), dir, RepairOptions{}); !errors.Is(err, ErrNoIndex) {
		t.Errorf("Repair on a missing directory: %v, want ErrNoIndex", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the missing directory was created: %v", err)
	}
	if ok, err := HasIndex(dir); ok || err != nil {
		t.Errorf("HasIndex of a missing directory: %v, %v", ok, err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if ok, err := HasIndex(dir); !ok || err != nil {
		t.Errorf("HasIndex of a directory Open created: %v, %v", ok, err)
	}
	s, err = Open(dir, Options{MustExist: true})
	if err != nil {
		t.Fatalf("Open with MustExist on an index: %v", err)
	}
	s.Close()
}
