package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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

func TestLoadQueryTexts(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "queries.jsonl")
	if err := os.WriteFile(p, []byte(`{"_id":"1","text":"one"}`+"\n"+`{"_id":"2","text":"two"}`+"\n"+`{"_id":"3","text":"three"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadQueryTexts(p, 2); err != nil || strings.Join(got, ",") != "one,two" {
		t.Errorf("LoadQueryTexts = %q, %v; want the first two", got, err)
	}
	empty := filepath.Join(dir, "empty.jsonl")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadQueryTexts(empty, 2); err == nil || !strings.Contains(err.Error(), "holds no queries") {
		t.Errorf("an empty file gives %v", err)
	}
}
