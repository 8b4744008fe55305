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
		run, refused, err := RunQueries(context.Background(), queries, workers, search)
		if err != nil || len(refused) > 0 {
			t.Fatal(refused, err)
		}
		if len(run) != 2 || run["q1"][0].DocID != "d-one" || run["q2"][0].DocID != "d-two" {
			t.Errorf("workers %d: run %v", workers, run)
		}
		if _, ok := run["q3"]; ok {
			t.Errorf("workers %d: a query without results has a ranking", workers)
		}
	}
	// A refused query is reported by id and leaves the run going: the
	// others keep their rankings.
	run, refused, err := RunQueries(context.Background(), queries, 2, func(ctx context.Context, text string) (Ranking, error) {
		if text == "two" {
			return nil, errors.New("query: must be at most 2000 characters")
		}
		return search(ctx, text)
	})
	if err != nil || len(refused) != 1 || refused[0].String() != "query q2: query: must be at most 2000 characters" {
		t.Errorf("refused %v, error %v; want query q2 refused and no error", refused, err)
	}
	if len(run) != 1 || run["q1"][0].DocID != "d-one" {
		t.Errorf("run %v: want q1's ranking kept", run)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := RunQueries(ctx, queries, 2, search); err == nil {
		t.Error("a cancelled run: no error")
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
