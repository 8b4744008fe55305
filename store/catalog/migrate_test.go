package catalog

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// legacyDir writes the layout of a data directory made before collections
// (the store's files are stand-ins: only their place matters here), with a
// file of the user's that must stay where it is.
func legacyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for path, body := range map[string]string{
		"CURRENT":                         "gen-1\n",
		"LOCK":                            "",
		"generations/gen-1/manifest.json": "{}",
		"embcache/x":                      "v",
		"crawl/frontier":                  "f",
		"notes.txt":                       "mine",
	} {
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func checkMigrated(t *testing.T, dir string) {
	t.Helper()
	def := filepath.Join(dir, collectionsDir, Default)
	for path, want := range map[string]string{
		filepath.Join(def, "CURRENT"):                         "gen-1\n",
		filepath.Join(def, "generations/gen-1/manifest.json"): "{}",
		filepath.Join(def, "embcache/x"):                      "v",
		filepath.Join(def, "crawl/frontier"):                  "f",
		filepath.Join(dir, "notes.txt"):                       "mine",
	} {
		if b, err := os.ReadFile(path); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", path, b, err, want)
		}
	}
	for _, gone := range legacyEntries {
		if _, err := os.Stat(filepath.Join(dir, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still in the data directory's root", gone)
		}
	}
}

// TestMigrateLegacy: a data directory made before collections opens as
// Default with everything it held.
func TestMigrateLegacy(t *testing.T) {
	dir := legacyDir(t)
	c := open(t, dir)
	checkMigrated(t, dir)
	if col, err := c.Resolve(""); err != nil || col.Name != Default {
		t.Errorf("resolve \"\": %+v, %v", col, err)
	}
}

// TestMigrateResumes stops the move after each of its steps, as a crash
// would, and then opens the directory: every time, the index ends whole in
// Default, never in neither place.
func TestMigrateResumes(t *testing.T) {
	errCrash := errors.New("crash")
	for stop := range legacyEntries {
		dir := legacyDir(t)
		n := 0
		err := migrate(dir, slog.New(slog.DiscardHandler), func(string) error {
			if n == stop {
				return errCrash
			}
			n++
			return nil
		})
		if !errors.Is(err, errCrash) {
			t.Fatalf("stop after step %d: %v", stop, err)
		}
		if _, err := os.Stat(filepath.Join(dir, catalogFile)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("stop after step %d: the catalog was written before the move ended", stop)
		}
		// A read-only command is the next to open it, as often as not.
		c, err := Open(dir, Options{MustExist: true})
		if err != nil {
			t.Fatalf("stop after step %d: open: %v", stop, err)
		}
		checkMigrated(t, dir)
		c.Close()
	}
}

// TestMigrateRefusesBoth: the old layout written again beside a move
// already begun is refused, naming both, and nothing is lost.
func TestMigrateRefusesBoth(t *testing.T) {
	dir := legacyDir(t)
	if err := os.MkdirAll(filepath.Join(dir, collectionsDir, Default, "generations"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "generations")) {
		t.Fatalf("open with both layouts: %v, want refused naming both", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "generations/gen-1/manifest.json")); err != nil {
		t.Errorf("the old layout lost a file: %v", err)
	}
}
