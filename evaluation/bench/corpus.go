// Package bench measures what cari bench reports: the latency and
// throughput of searches on an open index (each mode timed the same way),
// the process's memory, and generated corpora that follow a real corpus's
// term statistics, for costs beyond the real collections. The command
// parses flags and wires the store; the measuring lives here.
package bench

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/cari-search/cari/indexer/corpus"
)

// TermSampler draws words with the frequencies they have in a real corpus.
type TermSampler struct {
	words []string
	cum   []uint64 // cum[i] is the total count of words[0..i]
}

// NewTermSampler samples the words of counts in proportion to their counts,
// so generated text has a real vocabulary and its Zipf curve.
func NewTermSampler(counts map[string]uint64) (*TermSampler, error) {
	if len(counts) == 0 {
		return nil, errors.New("no words to sample from")
	}
	s := &TermSampler{words: make([]string, 0, len(counts))}
	for w := range counts {
		s.words = append(s.words, w)
	}
	// Most frequent first, so a draw usually ends its binary search early
	// in cache; ties by word for a deterministic order.
	slices.SortFunc(s.words, func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), strings.Compare(a, b))
	})
	s.cum = make([]uint64, len(s.words))
	var total uint64
	for i, w := range s.words {
		total += counts[w]
		s.cum[i] = total
	}
	return s, nil
}

// Words is the size of the vocabulary.
func (s *TermSampler) Words() int { return len(s.words) }

// Draw returns one word, drawn in proportion to its count.
func (s *TermSampler) Draw(r *rand.Rand) string {
	x := r.Uint64N(s.cum[len(s.cum)-1])
	i, _ := slices.BinarySearch(s.cum, x+1)
	return s.words[i]
}

// CountWords adds the words of text to counts: runs of letters and digits,
// lower-cased (generated text has no punctuation of its own).
func CountWords(counts map[string]uint64, text string) {
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		counts[strings.ToLower(w)]++
	}
}

// Vocabulary reads a BEIR corpus and returns samplers of its title
// words and of its text words.
func Vocabulary(path string) (titles, texts *TermSampler, err error) {
	r, err := corpus.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	tc, xc := map[string]uint64{}, map[string]uint64{}
	for rec, err := range r.All() {
		if err != nil {
			return nil, nil, err
		}
		CountWords(tc, rec.Title)
		CountWords(xc, rec.Text)
	}
	if len(tc) == 0 {
		tc = xc // a corpus without titles: titles from the text words
	}
	if titles, err = NewTermSampler(tc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if texts, err = NewTermSampler(xc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return titles, texts, nil
}

// passageShape bounds a generated passage: a title of 4 to 12 words and 3
// to 6 sentences of 8 to 24 words, so about 30 to 150 words (200 to 1,100
// characters), one passage under the chunker's 1,200-character target.
var passageShape = struct{ minTitle, maxTitle, minSent, maxSent, minWords, maxWords int }{4, 12, 3, 6, 8, 24}

// Generator writes passages whose words follow a real corpus's term
// statistics (a unigram model: word order carries no meaning).
type Generator struct {
	titles, texts *TermSampler
	rng           *rand.Rand
	sb            strings.Builder
}

// NewGenerator draws titles from titles and sentences from texts; one
// seed always gives the same passages.
func NewGenerator(titles, texts *TermSampler, seed uint64) *Generator {
	return &Generator{titles: titles, texts: texts, rng: rand.New(rand.NewPCG(seed, 0x63617269))}
}

func (g *Generator) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

// sentence appends n words drawn from s, the first capitalised.
func (g *Generator) sentence(s *TermSampler, n int) {
	for i := range n {
		w := s.Draw(g.rng)
		if i == 0 {
			r := []rune(w)
			r[0] = unicode.ToUpper(r[0])
			w = string(r)
		} else {
			g.sb.WriteByte(' ')
		}
		g.sb.WriteString(w)
	}
}

// Next returns one passage's title and text.
func (g *Generator) Next() (title, text string) {
	p := passageShape
	g.sb.Reset()
	g.sentence(g.titles, g.between(p.minTitle, p.maxTitle))
	title = g.sb.String()
	g.sb.Reset()
	for i := range g.between(p.minSent, p.maxSent) {
		if i > 0 {
			g.sb.WriteByte(' ')
		}
		g.sentence(g.texts, g.between(p.minWords, p.maxWords))
		g.sb.WriteByte('.')
	}
	return title, g.sb.String()
}

// WriteCorpus writes n generated passages as a BEIR corpus.jsonl
// with ids g0, g1, ...
func WriteCorpus(path string, g *Generator, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	for i := range n {
		title, text := g.Next()
		if err := enc.Encode(map[string]string{"_id": fmt.Sprintf("g%d", i), "title": title, "text": text}); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// Generate writes n passages to the corpus.jsonl out, their words drawn
// with the frequencies they have in the corpus from (Vocabulary), the same
// for the same from, n and seed, as cari bench generate does. It returns
// the number of text words the passages draw on.
func Generate(from, out string, n int, seed uint64) (words int, err error) {
	if n < 1 {
		return 0, fmt.Errorf("--docs must be at least 1, got %d", n)
	}
	titles, texts, err := Vocabulary(from)
	if err != nil {
		return 0, fmt.Errorf("--from: %w", err)
	}
	if err := WriteCorpus(out, NewGenerator(titles, texts, seed), n); err != nil {
		return 0, fmt.Errorf("--out: %w", err)
	}
	return texts.Words(), nil
}
