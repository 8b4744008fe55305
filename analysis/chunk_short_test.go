package analysis

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/cari-search/cari/indexer/corpus"
)

// TestChunkShortTextsAsSentences checks Chunk's shortcut for a text that
// fits in one passage against packing its sentences (chunkSentences), on
// edge cases and on openings of every length class of real documents: the
// test corpus and, when ../shared/datasets is there, SciFact, Cranfield and
// TyDi QA Indonesian.
func TestChunkShortTextsAsSentences(t *testing.T) {
	c, err := NewChunker(ChunkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"", " ", "\n\n", " \t\n", "a", " a ", "...", "\u00a0x\u00a0", "Dr. Smith went home. He slept.",
		"First paragraph.\n\nSecond paragraph.\n\n\n", "「こんにちは。」世界。", "  trailing space.  \n"}
	paths := []string{filepath.Join("..", "testdata", "corpus", "sample.jsonl")}
	for _, name := range []string{"scifact", "cranfield", "tydiqa-id"} {
		dir := filepath.Join("..", "..", "shared", "datasets", name)
		for _, f := range []string{"corpus.jsonl", "corpus.jsonl.gz"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				paths = append(paths, filepath.Join(dir, f))
				break
			}
		}
	}
	if len(paths) == 1 {
		t.Log("no ../shared/datasets: edge cases and the test corpus only")
	}
	for _, path := range paths {
		r, err := corpus.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		n, limit := 0, 2000
		if testing.Short() {
			limit = 50
		}
		for d, err := range r.All() {
			if err != nil {
				continue
			}
			if n++; n > limit {
				break
			}
			for _, cut := range []int{40, 300, 1100, 1200, 1201, len(d.Text)} {
				texts = append(texts, prefix(d.Text, cut))
			}
		}
		r.Close()
	}
	short := 0
	for _, text := range texts {
		got, want := c.Chunk(text), c.chunkSentences(text)
		if !slices.Equal(got, want) {
			t.Errorf("Chunk(%.80q) = %+v, sentences packed give %+v", text, got, want)
		}
		if len(got) == 1 {
			short++
		}
	}
	t.Logf("%d texts, %d of them one passage", len(texts), short)
}

// prefix cuts text to at most n bytes at a rune boundary.
func prefix(text string, n int) string {
	if len(text) <= n {
		return text
	}
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n]
}
