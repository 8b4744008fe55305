package searcher

import (
	"cmp"
	"slices"

	"github.com/cari-search/cari/analysis"
)

// Highlights asks for the passages of each result that best match a query.
type Highlights struct {
	// NumSentences is the number of consecutive sentences in a highlight;
	// 0 means 3.
	NumSentences int
	// PerURL is the number of highlights per result; 0 means 1.
	PerURL int
	// Query is the text highlights are scored against; empty means the
	// search's query, and in Contents, which has none, the document's
	// most informative passages (see informativeTerms).
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
// windows with the same coverage. Sentences end at full-width marks too
// (analysis.Chunker), and CJK text is compared in character bigrams.
type highlighter struct {
	terms func(string) []string
	// termsIn, when the store has it, analyses text as the keyword index
	// analyses a document in a given language: the query and the
	// document's sentences are then analysed alike, in the document's
	// language, however short the query is.
	termsIn func(text, language string) []string
	langs   *analysis.Detector
	chunker *analysis.Chunker
}

// languageTerms is what a store offers to analyse text as a document in a
// given language (the local store does).
type languageTerms interface {
	TermsIn(text, language string) []string
}

func makeHighlighter(store Store, chunker *analysis.Chunker) highlighter {
	h := highlighter{terms: store.Terms, chunker: chunker}
	if lt, ok := store.(languageTerms); ok {
		h.termsIn, h.langs = lt.TermsIn, analysis.NewDetector()
	}
	return h
}

func (h highlighter) highlights(text, query string, o Highlights) []Highlight {
	return h.highlightsIn(text, "", query, o)
}

// highlightsIn picks highlights of a document's text in language (a BCP 47
// tag; "" when unknown, and then detected once for the whole text).
func (h highlighter) highlightsIn(text, language, query string, o Highlights) []Highlight {
	terms := h.terms
	if h.termsIn != nil {
		if language == "" {
			language = h.langs.DetectDocument("", text).Language
		}
		terms = func(s string) []string { return h.termsIn(s, language) }
	}
	n, per := o.NumSentences, o.PerURL
	if n <= 0 {
		n = 3
	}
	if per <= 0 {
		per = 1
	}
	sents := h.chunker.Sentences(text)
	if len(sents) == 0 {
		return nil
	}
	sentTerms := make([][]string, len(sents))
	for i, s := range sents {
		sentTerms[i] = terms(text[s.Start:s.End])
	}
	var want map[string]bool
	if query == "" {
		want = informativeTerms(sentTerms, informativeTermCount)
	} else {
		want = distinct(terms(query))
	}
	if len(want) == 0 {
		return nil
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

// informativeTermCount is how many of a document's terms stand in for a
// query when highlights have none.
const informativeTermCount = 10

// informativeTerms are a document's k most frequent index terms (stemmed,
// stop words already removed by the analysis), ties broken by first
// occurrence, and only terms that occur more than once when the document
// has any: Luhn's significant words ("The automatic creation of literature
// abstracts", 1958). The windows that cover most of them are the passages
// that say most of what the document is about.
func informativeTerms(sentTerms [][]string, k int) map[string]bool {
	count := map[string]int{}
	var order []string
	for _, ts := range sentTerms {
		for _, t := range ts {
			if count[t] == 0 {
				order = append(order, t)
			}
			count[t]++
		}
	}
	slices.SortStableFunc(order, func(a, b string) int { return cmp.Compare(count[b], count[a]) })
	if len(order) > 0 && count[order[0]] > 1 {
		order = slices.DeleteFunc(order, func(t string) bool { return count[t] < 2 })
	}
	return distinct(order[:min(k, len(order))])
}

func distinct(terms []string) map[string]bool {
	m := make(map[string]bool, len(terms))
	for _, t := range terms {
		m[t] = true
	}
	return m
}
