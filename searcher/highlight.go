package searcher

import (
	"cmp"
	"slices"

	"github.com/cari-search/cari/indexer"
)

// Highlights asks for the passages of each result that best match a query.
type Highlights struct {
	// NumSentences is the number of consecutive sentences in a highlight;
	// 0 means 3.
	NumSentences int
	// PerURL is the number of highlights per result; 0 means 1.
	PerURL int
	// Query is the text highlights are scored against; empty means the
	// search's query.
	Query string
}

// Highlight is one passage of a result with its score in [0, 1].
type Highlight struct {
	Text  string
	Score float64
}

// highlighter picks highlights by how much of the query a window of
// sentences covers: the share of the query's distinct index terms (as the
// keyword index analyzes them: stemmed, without stop words) that occur in
// it, plus a small term-density bonus that prefers the tighter of two
// windows with the same coverage.
type highlighter struct {
	terms   func(string) []string
	chunker *indexer.Chunker
}

func (h highlighter) highlights(text, query string, o Highlights) []Highlight {
	n, per := o.NumSentences, o.PerURL
	if n <= 0 {
		n = 3
	}
	if per <= 0 {
		per = 1
	}
	want := distinct(h.terms(query))
	sents := h.chunker.Sentences(text)
	if len(want) == 0 || len(sents) == 0 {
		return nil
	}
	sentTerms := make([][]string, len(sents))
	for i, s := range sents {
		sentTerms[i] = h.terms(text[s.Start:s.End])
	}
	type window struct {
		first int
		score float64
	}
	var windows []window
	for i := range sents {
		last := min(i+n, len(sents))
		seen := map[string]bool{}
		hits, total := 0, 0
		for _, ts := range sentTerms[i:last] {
			for _, t := range ts {
				total++
				if want[t] {
					hits++
					seen[t] = true
				}
			}
		}
		if len(seen) == 0 {
			continue
		}
		score := 0.9*float64(len(seen))/float64(len(want)) + 0.1*float64(hits)/float64(max(total, 1))
		windows = append(windows, window{i, score})
		if last == len(sents) {
			break
		}
	}
	slices.SortStableFunc(windows, func(a, b window) int { return cmp.Compare(b.score, a.score) })
	var out []Highlight
	taken := make([]bool, len(sents))
	for _, w := range windows {
		last := min(w.first+n, len(sents))
		if slices.Contains(taken[w.first:last], true) {
			continue
		}
		for i := w.first; i < last; i++ {
			taken[i] = true
		}
		out = append(out, Highlight{Text: text[sents[w.first].Start:sents[last-1].End], Score: w.score})
		if len(out) == per {
			break
		}
	}
	return out
}

func distinct(terms []string) map[string]bool {
	m := make(map[string]bool, len(terms))
	for _, t := range terms {
		m[t] = true
	}
	return m
}
