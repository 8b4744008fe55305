package bench

import (
	"context"
	"errors"
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

func TestMeasureModesSkipsUnavailable(t *testing.T) {
	// A keyword-only index without a re-ranker runs no vector or rerank
	// mode: each is skipped, not failed.
	run := &Run{Texts: []string{"q"}, Options: Options{Reps: 1, TopK: 1, Workers: 1, Modes: []string{"vector", "hybrid", "rerank"}}}
	figs, err := run.MeasureModes(context.Background())
	if err != nil || len(figs) != 0 {
		t.Errorf("MeasureModes = %v, %v; want every mode skipped", figs, err)
	}
	run.Options.Modes = []string{"fuzzy"}
	if _, err := run.MeasureModes(context.Background()); err == nil || errors.Is(err, ErrModeUnavailable) || !strings.Contains(err.Error(), "mode fuzzy") {
		t.Errorf("an unknown mode gives %v, want an error naming it", err)
	}
	if r, err := run.MeasureRecall(context.Background(), ""); r != nil || err != nil {
		t.Errorf("MeasureRecall without a file = %v, %v", r, err)
	}
}
