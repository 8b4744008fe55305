package evaluation

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunQueries(t *testing.T) {
	queries := []Query{{ID: "q1", Text: "one"}, {ID: "q2", Text: "two"}, {ID: "q3", Text: "none"}}
	search := func(_ context.Context, text string) (Ranking, error) {
		var r Ranking
		if text != "none" {
			r.Add("d-"+text, 1)
		}
		return r, nil
	}
	for _, workers := range []int{0, 1, 4} {
		run, err := RunQueries(context.Background(), queries, workers, search)
		if err != nil {
			t.Fatal(err)
		}
		if len(run) != 2 || run["q1"][0].DocID != "d-one" || run["q2"][0].DocID != "d-two" {
			t.Errorf("workers %d: run %v", workers, run)
		}
		if _, ok := run["q3"]; ok {
			t.Errorf("workers %d: a query without results has a ranking", workers)
		}
	}
	_, err := RunQueries(context.Background(), queries, 2, func(_ context.Context, text string) (Ranking, error) {
		if text == "two" {
			return nil, errors.New("boom")
		}
		return nil, nil
	})
	if err == nil || !strings.Contains(err.Error(), "query q2: boom") {
		t.Errorf("error %v, want one naming query q2", err)
	}
}

func TestWriteRunFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.txt")
	run := Run{}
	run.Add("q1", "d1", 2)
	if err := WriteRunFile(path, run, "tag"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "q1 Q0 d1 1") {
		t.Errorf("run file %q", b)
	}
}
