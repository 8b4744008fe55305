package indexer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
