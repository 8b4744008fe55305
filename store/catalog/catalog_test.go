package catalog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari/store"
)

func open(t *testing.T, dir string) *Catalog {
	t.Helper()
	c, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func names(cs []Collection) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// TestCreateDeletePersist: collections and their settings survive a
// reopen; Default always exists and cannot go; a deleted collection's
// directory is gone.
func TestCreateDeletePersist(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir)
	if got := names(c.List()); !slices.Equal(got, []string{Default}) {
		t.Fatalf("fresh catalog lists %v, want [default]", got)
	}
	s := Settings{Embedder: "none", BM25: store.BM25{K1: 0.9, B: 0.4}, Language: "EN"}
	if _, err := c.Create("cranfield", s); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create("cranfield", Settings{}); !errors.Is(err, ErrExists) {
		t.Errorf("second create: %v, want ErrExists", err)
	}
	if err := os.WriteFile(filepath.Join(c.Dir("cranfield"), "CURRENT"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Close()

	c = open(t, dir)
	got, err := c.Resolve("cranfield")
	if err != nil || got.Settings.BM25.K1 != 0.9 || got.Settings.Embedder != "none" || got.Settings.Language != "en" {
		t.Fatalf("reopened: %+v, %v; want the settings created (language canonical)", got, err)
	}
	if err := c.Delete(Default); err == nil {
		t.Error("deleting default succeeded")
	}
	if err := c.Delete("cranfield"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir("cranfield")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("deleted collection's directory remains: %v", err)
	}
	if _, err := c.Resolve("cranfield"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"cranfield"`) {
		t.Errorf("resolve deleted: %v, want ErrNotFound naming it", err)
	}
}

func TestNames(t *testing.T) {
	for _, name := range []string{"", "Docs", "-a", "a b", "a/b", "..", strings.Repeat("a", 64)} {
		if err := CheckName(name); err == nil {
			t.Errorf("CheckName(%q) accepted", name)
		}
	}
	for _, name := range []string{"a", "0", "docs_v2", "kb-2026", strings.Repeat("a", 63)} {
		if err := CheckName(name); err != nil {
			t.Errorf("CheckName(%q): %v", name, err)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		s     Settings
		field string
	}{
		{Settings{Language: "not a tag!"}, "language"},
		{Settings{BM25: store.BM25{K1: 1, B: 2}}, "bm25"},
		{Settings{URLTemplate: "https://x.org/doc"}, "url_template"},
		{Settings{URLTemplate: "docs/{id}"}, "url_template"},
		{Settings{URLTemplate: "https://x.org/{id}/{id}"}, "url_template"},
		{Settings{Limits: Limits{MaxDocuments: -1}}, "limits.max_documents"},
	} {
		if err := tc.s.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.field+":") {
			t.Errorf("%+v: %v, want an error naming %s", tc.s, err, tc.field)
		}
	}
	s := Settings{URLTemplate: "https://x.org/d/{id}"}
	if u := s.URL("", "a b"); u != "https://x.org/d/a%20b" {
		t.Errorf("URL from template = %q", u)
	}
	if u := s.URL("https://y.org/", "a"); u != "https://y.org/" {
		t.Errorf("URL of a document with one = %q", u)
	}
}

// TestUpdate: settings that need no rebuild change; the model does not.
func TestUpdate(t *testing.T) {
	c := open(t, t.TempDir())
	if _, err := c.Create("kb", Settings{Embedder: "static"}); err != nil {
		t.Fatal(err)
	}
	col, err := c.Update("kb", func(s *Settings) error { s.BM25 = store.BM25{K1: 1.5, B: 0.5}; return nil })
	if err != nil || col.Settings.BM25.K1 != 1.5 {
		t.Fatalf("update bm25: %+v, %v", col, err)
	}
	if _, err := c.Update("kb", func(s *Settings) error { s.Embedder = "none"; return nil }); err == nil || !strings.HasPrefix(err.Error(), "embedder:") {
		t.Errorf("update embedder: %v, want refused naming embedder", err)
	}
	if _, err := c.Update("nope", func(*Settings) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("update unknown: %v", err)
	}
}

// TestAliases: several alias changes in one call apply together or not at
// all; an alias resolves anywhere a name goes; a collection with an alias
// cannot be deleted.
func TestAliases(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir)
	for _, n := range []string{"docs-v1", "docs-v2"} {
		if _, err := c.Create(n, Settings{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.UpdateAliases([]AliasAction{{Alias: "docs", Collection: "docs-v1"}, {Alias: "old", Collection: "docs-v1"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("docs-v1"); err == nil || !strings.Contains(err.Error(), "docs, old") {
		t.Errorf("delete an aliased collection: %v, want refused naming its aliases", err)
	}
	// The swap: one call moves docs and deletes old; a failing action
	// later in the list leaves both as they were.
	err := c.UpdateAliases([]AliasAction{{Alias: "docs", Collection: "docs-v2"}, {Alias: "old", Delete: true}, {Alias: "x", Collection: "missing"}})
	if err == nil || !strings.HasPrefix(err.Error(), "actions[2]:") {
		t.Fatalf("update with a bad action: %v, want refused naming actions[2]", err)
	}
	if col, _ := c.Resolve("docs"); col.Name != "docs-v1" {
		t.Fatalf("a refused update moved the alias to %s", col.Name)
	}
	if err := c.UpdateAliases([]AliasAction{{Alias: "docs", Collection: "docs-v2"}, {Alias: "old", Delete: true}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []AliasAction{{Alias: "docs-v1", Collection: "docs-v2"}, {Alias: "y", Collection: "docs"}, {Alias: "zz", Delete: true}, {Alias: "Bad", Collection: "docs-v2"}} {
		if err := c.UpdateAliases([]AliasAction{bad}); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := c.Create("docs", Settings{}); !errors.Is(err, ErrExists) {
		t.Errorf("create a collection named as an alias: %v, want ErrExists", err)
	}
	c.Close()
	c = open(t, dir)
	if col, err := c.Resolve("docs"); err != nil || col.Name != "docs-v2" {
		t.Errorf("reopened, docs resolves to %+v, %v", col, err)
	}
	if got := c.Aliases(); len(got) != 1 || got[0] != (Alias{Name: "docs", Collection: "docs-v2"}) {
		t.Errorf("aliases after reopen: %+v", got)
	}
}

// TestLockAndMustExist: one process at a time; a read-only open of a
// missing directory names it and creates nothing.
func TestLockAndMustExist(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Errorf("second open: %v, want ErrLocked", err)
	}
	missing := filepath.Join(t.TempDir(), "typo")
	if _, err := Open(missing, Options{MustExist: true}); !errors.Is(err, ErrNoIndex) || !strings.Contains(err.Error(), missing+": no index") {
		t.Errorf("must-exist open of a missing dir: %v", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Error("must-exist open created the directory")
	}
}

// TestInUseNamesHolder: refused because a server holds the data directory,
// the catalog names the holder as store/local does ("pid N, serving gRPC on
// ADDR"), not as the lock file's raw record.
func TestInUseNamesHolder(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir, Options{ServeAddr: "127.0.0.1:7700"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = Open(dir, Options{MustExist: true})
	want := fmt.Sprintf("%s: data directory is in use by another cari process (pid %d, serving gRPC on 127.0.0.1:7700): stop it, or use another --data", dir, os.Getpid())
	if !errors.Is(err, ErrLocked) || err == nil || err.Error() != want {
		t.Errorf("second open: %v\nwant: %s", err, want)
	}
}

// TestSweepRemains: a directory under collections/ that the catalog does
// not name (a delete cut short after its commit) is removed at open.
func TestSweepRemains(t *testing.T) {
	dir := t.TempDir()
	open(t, dir).Close()
	orphan := filepath.Join(dir, collectionsDir, "gone")
	if err := os.MkdirAll(filepath.Join(orphan, "generations"), 0o755); err != nil {
		t.Fatal(err)
	}
	open(t, dir)
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan directory remains: %v", err)
	}
}
