package bench

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/indexer/corpus"
)

// TestGenerate: the passages are the source corpus's words, one chunk
// each, the same for one seed; bad arguments name the flag at fault.
func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	from := filepath.Join("..", "..", "testdata", "corpus", "sample.jsonl")
	gen := func(name string, seed uint64) []corpus.Document {
		out := filepath.Join(dir, name)
		if _, err := Generate(from, out, 300, seed); err != nil {
			t.Fatal(err)
		}
		r, err := corpus.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var docs []corpus.Document
		for d, err := range r.All() {
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, d)
		}
		return docs
	}
	docs := gen("a.jsonl", 1)
	if len(docs) != 300 || docs[0].ID != "g0" || docs[299].ID != "g299" {
		t.Fatalf("got %d passages, ids %q..%q; want 300, g0..g299", len(docs), docs[0].ID, docs[len(docs)-1].ID)
	}
	vocab := map[string]uint64{}
	r, err := corpus.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	for d, err := range r.All() {
		if err != nil {
			t.Fatal(err)
		}
		CountWords(vocab, d.Title)
		CountWords(vocab, d.Text)
	}
	r.Close()
	chunker, err := analysis.NewChunker(analysis.ChunkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		words := map[string]uint64{}
		CountWords(words, d.Title+" "+d.Text)
		for w := range words {
			if vocab[w] == 0 {
				t.Fatalf("passage %s holds %q, not a word of %s", d.ID, w, from)
			}
		}
		if n := len(chunker.Chunk(d.Text)); n != 1 {
			t.Errorf("passage %s (%d characters) makes %d chunks, want 1", d.ID, len(d.Text), n)
		}
	}
	if again := gen("b.jsonl", 1); again[123] != docs[123] {
		t.Errorf("same seed, different passage: %+v and %+v", again[123], docs[123])
	}
	if other := gen("c.jsonl", 2); other[0] == docs[0] {
		t.Error("seeds 1 and 2 gave the same first passage")
	}
	if _, err := Generate(from, filepath.Join(dir, "d"), 0, 1); err == nil || !strings.Contains(err.Error(), "--docs") {
		t.Errorf("--docs 0: error %v, want one naming --docs", err)
	}
	if _, err := Generate(filepath.Join(dir, "no-such.jsonl"), filepath.Join(dir, "e"), 10, 1); err == nil || !strings.Contains(err.Error(), "--from") {
		t.Errorf("a missing --from: error %v, want one naming --from", err)
	}
}
