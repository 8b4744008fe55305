package exa

import (
	"cmp"
	"slices"
	"strings"
	"unicode"

	"github.com/cari-search/cari"
)

// extractiveSummary quotes up to extractiveSentences sentences of text, in
// the text's order: those that share the most words with query, or, when
// none shares any (or there is no query), the leading ones, which on most
// pages state what the page is about.
func (a *exaAPI) extractiveSummary(text, query string) string {
	spans := a.chunker.Sentences(text)
	if len(spans) == 0 {
		return ""
	}
	type scored struct{ pos, score int }
	terms := summaryTerms(query)
	cands := make([]scored, len(spans))
	best := 0
	for i, s := range spans {
		words := summaryTerms(text[s.Start:s.End])
		n := 0
		for t := range terms {
			if _, ok := words[t]; ok {
				n++
			}
		}
		cands[i] = scored{pos: i, score: n}
		best = max(best, n)
	}
	if best > 0 {
		slices.SortStableFunc(cands, func(x, y scored) int { return cmp.Compare(y.score, x.score) })
	}
	picked := cands[:min(extractiveSentences, len(cands))]
	slices.SortFunc(picked, func(x, y scored) int { return cmp.Compare(x.pos, y.pos) })
	parts := make([]string, 0, len(picked))
	for _, p := range picked {
		parts = append(parts, strings.Join(strings.Fields(text[spans[p.pos].Start:spans[p.pos].End]), " "))
	}
	return cari.Truncate(strings.Join(parts, " "), extractiveChars, "…")
}

// summaryTerms are the lower-cased words of s of three letters or more: a
// rough match that needs no language's analyzer.
func summaryTerms(s string) map[string]struct{} {
	out := map[string]struct{}{}
	for w := range strings.FieldsFuncSeq(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len([]rune(w)) >= 3 {
			out[w] = struct{}{}
		}
	}
	return out
}
