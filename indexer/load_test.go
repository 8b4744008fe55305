package indexer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadCorpus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "corpus.jsonl")
	lines := []string{
		`{"_id": "a", "title": "One", "text": "The first document."}`,
		`not json`,
		`{"_id": "b", "text": "The second document.", "language": "no such language"}`,
		`{"_id": "c", "text": "Dokumen ketiga.", "language": "id"}`,
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &recordingWriter{}
	added := 0
	sum, err := LoadCorpus(context.Background(), w, Options{}, path, LoadOptions{Language: "en", Added: func() { added++ }})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Indexed != 2 || sum.Skipped != 2 || added != 2 {
		t.Errorf("indexed %d, skipped %d, added %d; want 2, 2, 2", sum.Indexed, sum.Skipped, added)
	}
	langs := map[string]string{}
	for _, b := range w.batches {
		for _, d := range b {
			langs[d.ID] = d.Language
		}
	}
	if langs["a"] != "en" || langs["c"] != "id" {
		t.Errorf("languages %v: want a given en (--language), c its own id", langs)
	}
	if _, err := LoadCorpus(context.Background(), w, Options{}, filepath.Join(t.TempDir(), "none"), LoadOptions{}); err == nil {
		t.Error("a missing corpus: no error")
	}
}

func TestLoadSummaryCheck(t *testing.T) {
	for _, tc := range []struct {
		sum  LoadSummary
		max  float64
		want string // "" for no error
	}{
		{LoadSummary{Indexed: 100}, DefaultMaxMalformed, ""},
		{LoadSummary{Indexed: 99, Skipped: 1}, DefaultMaxMalformed, ""},
		{LoadSummary{Indexed: 98, Skipped: 2}, DefaultMaxMalformed, "2 of 100 lines (2.0%) were refused, more than the 0.01 allowed"},
		{LoadSummary{Indexed: 30, Skipped: 2}, 0.1, ""},
		{LoadSummary{Skipped: 5}, 1, "nothing was indexed: all 5 lines were refused"},
		{LoadSummary{}, 1, "nothing was indexed: the corpus holds no documents"},
		{LoadSummary{Indexed: 3, Unchanged: 3}, 0, ""},
	} {
		err := tc.sum.Check(tc.max)
		if got := fmt.Sprint(err); (tc.want == "" && err != nil) || (tc.want != "" && got != tc.want) {
			t.Errorf("%+v.Check(%v) = %v, want %q", tc.sum, tc.max, err, tc.want)
		}
	}
}

func TestLoadSummaryWrite(t *testing.T) {
	var b strings.Builder
	LoadSummary{Indexed: 30, Unchanged: 4, Skipped: 2, Elapsed: 2 * time.Second}.WriteSummary(&b, "c.jsonl")
	if want := "indexed 30 documents from c.jsonl in 2.0s (15 docs/s), 4 of them unchanged and not rewritten; skipped 2 malformed lines\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
