package analysis

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/cari-search/cari"
)

func newChunker(t *testing.T, opts ChunkOptions) *Chunker {
	t.Helper()
	c, err := NewChunker(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSentences(t *testing.T) {
	c := newChunker(t, ChunkOptions{})
	text := "Dr. Smith met e.g. the U.S. envoy in Washington. He left early!\n\nA new paragraph without a stop"
	var got []string
	for _, s := range c.Sentences(text) {
		got = append(got, text[s.Start:s.End])
	}
	want := []string{"Dr. Smith met e.g. the U.S. envoy in Washington.", "He left early!", "A new paragraph without a stop"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Sentences = %q, want %q", got, want)
	}
}

// checkChunks verifies the invariants every chunking must keep: ordinals in
// order, offsets inside the text on rune boundaries, no passage over the
// limit unless one sentence alone is, and every sentence covered.
func checkChunks(t *testing.T, c *Chunker, text string, chunks []cari.Chunk, max int) {
	t.Helper()
	covered := make([]bool, len(text))
	for i, ch := range chunks {
		if ch.Ordinal != i {
			t.Errorf("chunk %d has ordinal %d", i, ch.Ordinal)
		}
		if ch.Start < 0 || ch.End > len(text) || ch.Start > ch.End {
			t.Fatalf("chunk %d = [%d,%d) outside text of %d bytes", i, ch.Start, ch.End, len(text))
		}
		if ch.End-ch.Start > max {
			t.Errorf("chunk %d is %d bytes, limit %d", i, ch.End-ch.Start, max)
		}
		if ch.Start < len(text) && !utf8.RuneStart(text[ch.Start]) {
			t.Errorf("chunk %d starts inside a UTF-8 sequence", i)
		}
		for j := ch.Start; j < ch.End; j++ {
			covered[j] = true
		}
	}
	for _, s := range c.Sentences(text) {
		for j := s.Start; j < s.End; j++ {
			if !covered[j] && !isSpaceByte(text[j]) {
				t.Fatalf("byte %d (%q) of a sentence is in no chunk", j, text[s.Start:s.End])
			}
		}
	}
}

func TestChunk(t *testing.T) {
	sentence := "The quick brown fox jumps over the lazy dog near the river bank. "
	long := strings.Repeat(sentence, 60)
	tests := []struct {
		name   string
		opts   ChunkOptions
		text   string
		chunks int
	}{
		{"empty text is one empty passage", ChunkOptions{}, "", 1},
		{"short text is one passage", ChunkOptions{}, "One sentence. Two sentences.", 1},
		{"long text splits", ChunkOptions{MaxChars: 300}, long, 0},
		{"no overlap", ChunkOptions{MaxChars: 300, OverlapChars: -1}, long, 0},
		{"one huge sentence is cut at spaces", ChunkOptions{MaxChars: 100}, strings.Repeat("word ", 200), 0},
		{"no spaces at all is cut at rune boundaries", ChunkOptions{MaxChars: 100}, strings.Repeat("é", 300), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChunker(t, tt.opts)
			chunks := c.Chunk(tt.text)
			if tt.chunks > 0 && len(chunks) != tt.chunks {
				t.Errorf("got %d chunks, want %d", len(chunks), tt.chunks)
			}
			if tt.chunks == 0 && len(chunks) < 2 {
				t.Errorf("got %d chunks, want several", len(chunks))
			}
			checkChunks(t, c, tt.text, chunks, c.opts.MaxChars)
		})
	}
}

func TestChunkOverlap(t *testing.T) {
	text := strings.Repeat("Short sentence number one here. ", 40)
	with := newChunker(t, ChunkOptions{MaxChars: 200}).Chunk(text)
	without := newChunker(t, ChunkOptions{MaxChars: 200, OverlapChars: -1}).Chunk(text)
	if with[1].Start >= with[0].End {
		t.Errorf("with overlap, chunk 1 starts at %d after chunk 0 ends at %d", with[1].Start, with[0].End)
	}
	if without[1].Start < without[0].End {
		t.Errorf("without overlap, chunk 1 starts at %d inside chunk 0 (ends %d)", without[1].Start, without[0].End)
	}
}

func TestChunkerConcurrent(t *testing.T) {
	c := newChunker(t, ChunkOptions{MaxChars: 120})
	text := strings.Repeat("Mr. Jones arrived at 3 p.m. on Monday. The meeting began at once. ", 30)
	want := c.Chunk(text)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got := c.Chunk(text)
			if len(got) != len(want) || got[len(got)-1] != want[len(want)-1] {
				t.Errorf("concurrent Chunk gave %d chunks, want %d", len(got), len(want))
			}
		})
	}
	wg.Wait()
}
