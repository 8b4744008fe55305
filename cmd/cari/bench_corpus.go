package main

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

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/indexer/corpus"
)

// termSampler draws words with the frequencies they have in a real corpus.
type termSampler struct {
	words []string
	cum   []uint64 // cum[i] is the total count of words[0..i]
}

// newTermSampler samples the words of counts in proportion to their counts,
// so generated text has a real vocabulary and its Zipf curve.
func newTermSampler(counts map[string]uint64) (*termSampler, error) {
	if len(counts) == 0 {
		return nil, errors.New("no words to sample from")
	}
	s := &termSampler{words: make([]string, 0, len(counts))}
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

func (s *termSampler) draw(r *rand.Rand) string {
	x := r.Uint64N(s.cum[len(s.cum)-1])
	i, _ := slices.BinarySearch(s.cum, x+1)
	return s.words[i]
}

// countWords adds the words of text to counts: runs of letters and digits,
// lower-cased (generated text has no punctuation of its own).
func countWords(counts map[string]uint64, text string) {
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		counts[strings.ToLower(w)]++
	}
}

// corpusVocabulary reads a BEIR corpus and returns samplers of its title
// words and of its text words.
func corpusVocabulary(path string) (titles, texts *termSampler, err error) {
	r, err := corpus.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--from: %w", err)
	}
	defer r.Close()
	tc, xc := map[string]uint64{}, map[string]uint64{}
	for rec, err := range r.All() {
		if err != nil {
			return nil, nil, fmt.Errorf("--from: %w", err)
		}
		countWords(tc, rec.Title)
		countWords(xc, rec.Text)
	}
	if len(tc) == 0 {
		tc = xc // a corpus without titles: titles from the text words
	}
	if titles, err = newTermSampler(tc); err != nil {
		return nil, nil, fmt.Errorf("--from %s: %w", path, err)
	}
	if texts, err = newTermSampler(xc); err != nil {
		return nil, nil, fmt.Errorf("--from %s: %w", path, err)
	}
	return titles, texts, nil
}

// passageShape bounds a generated passage: a title of 4 to 12 words and 3
// to 6 sentences of 8 to 24 words, so about 30 to 150 words (200 to 1,100
// characters), one passage under the chunker's 1,200-character target.
var passageShape = struct{ minTitle, maxTitle, minSent, maxSent, minWords, maxWords int }{4, 12, 3, 6, 8, 24}

// passageGenerator writes passages whose words follow a real corpus's term
// statistics (a unigram model: word order carries no meaning).
type passageGenerator struct {
	titles, texts *termSampler
	rng           *rand.Rand
	sb            strings.Builder
}

func newPassageGenerator(titles, texts *termSampler, seed uint64) *passageGenerator {
	return &passageGenerator{titles: titles, texts: texts, rng: rand.New(rand.NewPCG(seed, 0x63617269))}
}

func (g *passageGenerator) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

// sentence appends n words drawn from s, the first capitalised.
func (g *passageGenerator) sentence(s *termSampler, n int) {
	for i := range n {
		w := s.draw(g.rng)
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

// next returns one passage's title and text.
func (g *passageGenerator) next() (title, text string) {
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

// writeGeneratedCorpus writes n generated passages as a BEIR corpus.jsonl
// with ids g0, g1, ...
func writeGeneratedCorpus(path string, g *passageGenerator, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	for i := range n {
		title, text := g.next()
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

func newBenchGenerateCmd() *cobra.Command {
	var from, out string
	var docs int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write a corpus of generated passages with a real corpus's term statistics",
		Long: `Generate writes --docs passages as a BEIR corpus.jsonl: titles and sentences
of words drawn with the frequencies they have in the --from corpus (a unigram
model, so word order means nothing), each passage short enough to be one
chunk. The same --from, --docs and --seed always give the same file. cari bench
uses these corpora to show how cost grows beyond the real collections.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || out == "" {
				return errors.New("--from and --out are required")
			}
			if docs < 1 {
				return fmt.Errorf("--docs must be at least 1, got %d", docs)
			}
			titles, texts, err := corpusVocabulary(from)
			if err != nil {
				return err
			}
			if err := writeGeneratedCorpus(out, newPassageGenerator(titles, texts, seed), docs); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d passages to %s (vocabulary of %d text words from %s)\n", docs, out, len(texts.words), from)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "BEIR corpus whose term statistics the passages follow (required)")
	cmd.Flags().StringVar(&out, "out", "", "corpus.jsonl to write (required)")
	cmd.Flags().IntVar(&docs, "docs", 100000, "passages to write")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed")
	return cmd
}
