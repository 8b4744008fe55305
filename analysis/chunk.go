package analysis

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/neurosnap/sentences"

	"github.com/cari-search/cari"
)

// ChunkOptions shape passages. The zero value uses the defaults.
type ChunkOptions struct {
	// MaxChars is the target passage size in bytes of text. Sentences are
	// never split unless one alone is longer. Default 1200 (about 250
	// English tokens, inside every embedding model's context).
	MaxChars int
	// OverlapChars: a passage starts with the previous passage's last
	// sentence when that sentence is at most this long, so a statement that
	// spans the boundary is retrievable from either side. Default 200; a
	// negative value turns overlap off.
	OverlapChars int
}

func (o ChunkOptions) withDefaults() ChunkOptions {
	if o.MaxChars <= 0 {
		o.MaxChars = 1200
	}
	if o.OverlapChars == 0 {
		o.OverlapChars = 200
	}
	return o
}

// Chunker splits documents into passages at sentence boundaries. It is safe
// for concurrent use.
type Chunker struct {
	opts ChunkOptions
	sent *sentences.DefaultSentenceTokenizer
}

var (
	englishSentencesOnce sync.Once
	englishSentences     *sentences.DefaultSentenceTokenizer
	englishSentencesErr  error
)

// NewChunker returns a Chunker. Sentence boundaries come from the Punkt
// model for English (github.com/neurosnap/sentences), which knows
// abbreviations such as "e.g." and "Dr.", extended with Indonesian ones
// ("dll.", "Jl."), and from full-width end marks (。！？) in Chinese and
// Japanese text.
func NewChunker(opts ChunkOptions) (*Chunker, error) {
	englishSentencesOnce.Do(func() {
		englishSentences, englishSentencesErr = newSentenceModel()
	})
	if englishSentencesErr != nil {
		return nil, englishSentencesErr
	}
	return &Chunker{opts: opts.withDefaults(), sent: englishSentences}, nil
}

// span is a byte range of a text.
type span struct{ start, end int }

// Span is a byte range [Start, End) of a text.
type Span struct{ Start, End int }

// Sentences returns the sentence spans of text, trimmed of surrounding
// space. Paragraph breaks (a blank line) always end a sentence.
func (c *Chunker) Sentences(text string) []Span {
	sents := c.sentences(text)
	out := make([]Span, len(sents))
	for i, s := range sents {
		out[i] = Span{s.start, s.end}
	}
	return out
}

func (c *Chunker) sentences(text string) []span {
	var out []span
	for _, para := range paragraphs(text) {
		var punkt []span
		for _, s := range c.sent.Tokenize(text[para.start:para.end]) {
			sp := trimSpan(text, span{para.start + s.Start, para.start + s.End})
			if sp.end > sp.start {
				punkt = append(punkt, sp)
			}
		}
		for _, sp := range mergeClosers(text, punkt) {
			out = append(out, splitFullWidth(text, sp)...)
		}
	}
	return out
}

// Chunk splits a document's text into passages. A document with no text
// has one empty passage, so its title is still embedded.
func (c *Chunker) Chunk(text string) []cari.Chunk {
	// A text that fits in one passage is one passage whatever its
	// sentences: from its first to its last non-space byte, which is where
	// its first sentence starts and its last ends. Most short documents
	// (and every generated benchmark passage) skip sentence splitting, the
	// costly part of chunking.
	switch whole := trimSpan(text, span{0, len(text)}); {
	case whole.end == whole.start:
		return []cari.Chunk{{Ordinal: 0}}
	case whole.end-whole.start <= c.opts.MaxChars:
		return []cari.Chunk{{Ordinal: 0, Start: whole.start, End: whole.end}}
	}
	return c.chunkSentences(text)
}

// chunkSentences packs text's sentences into passages of at most MaxChars.
func (c *Chunker) chunkSentences(text string) []cari.Chunk {
	sents := c.sentences(text)
	if len(sents) == 0 {
		return []cari.Chunk{{Ordinal: 0}}
	}
	sents = c.splitLong(text, sents)
	var chunks []cari.Chunk
	start, last := sents[0].start, sents[0]
	for i := 1; i < len(sents); i++ {
		s := sents[i]
		if s.end-start <= c.opts.MaxChars {
			last = s
			continue
		}
		chunks = append(chunks, cari.Chunk{Ordinal: len(chunks), Start: start, End: last.end})
		start = s.start
		if c.opts.OverlapChars > 0 && last.end-last.start <= c.opts.OverlapChars && s.end-last.start <= c.opts.MaxChars {
			start = last.start
		}
		last = s
	}
	return append(chunks, cari.Chunk{Ordinal: len(chunks), Start: start, End: last.end})
}

// splitLong cuts sentences longer than MaxChars at word boundaries, or in
// text without spaces after a clause (see cutPoint).
func (c *Chunker) splitLong(text string, sents []span) []span {
	out := sents[:0:0]
	for _, s := range sents {
		for s.end-s.start > c.opts.MaxChars {
			cut := cutPoint(text, s.start, s.start+c.opts.MaxChars)
			out = append(out, trimSpan(text, span{s.start, cut}))
			s = trimSpan(text, span{cut, s.end})
		}
		if s.end > s.start {
			out = append(out, s)
		}
	}
	return out
}

func isCutPoint(text string, i int) bool {
	return i < len(text) && utf8.RuneStart(text[i]) && unicode.IsSpace(rune(text[i]))
}

// paragraphs splits text at blank lines.
func paragraphs(text string) []span {
	var out []span
	start := 0
	for {
		i := strings.Index(text[start:], "\n\n")
		if i < 0 {
			return append(out, span{start, len(text)})
		}
		out = append(out, span{start, start + i})
		start += i + 2
	}
}

func trimSpan(text string, s span) span {
	for s.start < s.end && isSpaceByte(text[s.start]) {
		s.start++
	}
	for s.end > s.start && isSpaceByte(text[s.end-1]) {
		s.end--
	}
	return s
}

func isSpaceByte(b byte) bool {
	return b == ' ' || b == '\n' || b == '\t' || b == '\r' || b == '\f' || b == '\v'
}
