package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrepareDir(t *testing.T) {
	root := t.TempDir()
	corpus := filepath.Join(root, "corpus.jsonl")
	if err := os.WriteFile(corpus, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "data")
	if _, err := PrepareDir(dir, "", false); err == nil || !strings.Contains(err.Error(), "--corpus is required") {
		t.Errorf("no index and no corpus: %v", err)
	}
	if _, err := PrepareDir(dir, filepath.Join(root, "absent.jsonl"), false); err == nil || !strings.Contains(err.Error(), "--corpus") {
		t.Errorf("a missing corpus: %v", err)
	}
	if build, err := PrepareDir(dir, corpus, false); err != nil || !build {
		t.Fatalf("an empty directory: build %v, %v; want a build", build, err)
	}
	if _, err := os.Stat(filepath.Join(dir, Marker)); err != nil {
		t.Errorf("the built directory is not marked: %v", err)
	}
	if build, err := PrepareDir(dir, corpus, false); err != nil || build {
		t.Errorf("an index there: build %v, %v; want it opened", build, err)
	}
	if build, err := PrepareDir(dir, corpus, true); err != nil || !build {
		t.Errorf("a rebuild of a marked directory: build %v, %v", build, err)
	}
	other := filepath.Join(root, "other")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "CURRENT"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := PrepareDir(other, corpus, true); err == nil || !strings.Contains(err.Error(), "not built by cari bench") {
		t.Errorf("a rebuild of a directory bench did not make: %v", err)
	}
	if _, err := os.Stat(filepath.Join(other, "CURRENT")); err != nil {
		t.Errorf("the refused rebuild deleted a file: %v", err)
	}
}
