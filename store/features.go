package store

import (
	"math"
	"slices"
)

// FeatureQuery is a query analysed in one body field for MatchFeatures: its
// distinct terms and, once the store has set them from its statistics, their
// IDFs. A store collects each document's matches of the terms (FeatureDoc)
// from wherever it keeps them (the local store from its postings, the Qdrant
// store from stored text) and Features computes the rest alike for both.
type FeatureQuery struct {
	// Terms are the query's distinct terms, in the order they first occur.
	Terms []QueryTerm
	// IDFs holds each term's IDF, by index into Terms; the store sets them.
	IDFs []float64
	// BM25 are the field's BM25 parameters.
	BM25 BM25

	field string
	pairs [][2]int
	a     *Analysis
}

// QueryTerm is one distinct term of a query and how often the query has it.
type QueryTerm struct {
	Text  []byte
	Count int
}

// TermMatch is where one query term occurs in a document.
type TermMatch struct {
	// Term indexes FeatureQuery.Terms.
	Term int
	// Positions are the term's token positions in the body, ascending.
	Positions []int
	// InTitle says the term occurs in the title, TitleFreq how often.
	InTitle   bool
	TitleFreq int
}

// FeatureDoc collects one document's matches of a FeatureQuery's terms.
type FeatureDoc struct {
	ID    string
	Title string
	// TitleBytes is the title's length in bytes: a match that starts before
	// it is in the title (the body is Body(title, text)).
	TitleBytes int
	// Length is the body's analysed length in tokens, known from a match
	// (0 for a document that matches nothing).
	Length float64
	// BM25 is the document's score, summed over its matches.
	BM25    float64
	Matches []TermMatch

	// titleLength is the title's analyzed length in tokens.
	titleLength float64
}

// FeatureQuery analyses query in body field for MatchFeatures scored with
// bm.
func (a *Analysis) FeatureQuery(field, query string, bm BM25) *FeatureQuery {
	all := a.Analyze(field, query)
	terms := distinctTerms(all)
	return &FeatureQuery{Terms: terms, IDFs: make([]float64, len(terms)), BM25: bm,
		field: field, pairs: queryPairs(all, terms), a: a}
}

// Field is the body field the query is analysed in.
func (q *FeatureQuery) Field() string { return q.field }

// Features computes the MatchFeatures of docs, whose matches are collected,
// by document ID.
func (q *FeatureQuery) Features(docs []*FeatureDoc) map[string]MatchFeatures {
	var idfSum float64
	for _, idf := range q.IDFs {
		idfSum += idf
	}
	var avgTitle float64
	for _, c := range docs {
		c.titleLength = float64(len(q.a.Analyze(q.field, c.Title)))
		avgTitle += c.titleLength / float64(len(docs))
	}
	out := make(map[string]MatchFeatures, len(docs))
	for _, c := range docs {
		occ := occurrences(c.Matches)
		f := c.features(q.IDFs, idfSum, occ)
		f.OrderedPairs, f.UnorderedPairs = c.pairFeatures(q.pairs, q.IDFs)
		for _, m := range c.Matches {
			if m.TitleFreq > 0 {
				f.TitleBM25 += float64(q.Terms[m.Term].Count) * q.BM25.TermScore(q.IDFs[m.Term], float64(m.TitleFreq), c.titleLength, max(avgTitle, 1))
			}
		}
		f.MissingIDF = missingIDF(c.Matches, q.IDFs)
		for i, w := range WindowSpans {
			f.WindowCoverage[i] = windowCoverage(occ, q.IDFs, idfSum, w)
		}
		out[c.ID] = f
	}
	return out
}

func distinctTerms(terms [][]byte) []QueryTerm {
	var out []QueryTerm
	for _, t := range terms {
		i := slices.IndexFunc(out, func(q QueryTerm) bool { return string(q.Text) == string(t) })
		if i >= 0 {
			out[i].Count++
			continue
		}
		out = append(out, QueryTerm{Text: t, Count: 1})
	}
	return out
}

// features computes the features of single terms and their proximity;
// occ is occurrences(c.Matches).
func (c *FeatureDoc) features(idfs []float64, idfSum float64, occ []occurrence) MatchFeatures {
	f := MatchFeatures{BM25: c.BM25, Length: c.Length, FirstMatch: 1}
	if len(c.Matches) == 0 || idfSum == 0 {
		return f
	}
	first := math.MaxInt
	for _, m := range c.Matches {
		f.Coverage += idfs[m.Term] / idfSum
		if m.InTitle {
			f.TitleCoverage += idfs[m.Term] / idfSum
		}
		first = min(first, slices.Min(m.Positions))
	}
	if c.Length > 0 {
		f.FirstMatch = min(1, float64(first-1)/c.Length)
	}
	f.Proximity = float64(len(c.Matches)) / float64(shortestCover(occ, len(c.Matches)))
	return f
}

// occurrence is one position of a matched term: match indexes the
// candidate's matches, term the query's terms.
type occurrence struct{ pos, match, term int }

// occurrences lists the positions of matches in document order, once for
// the proximity and window features of a candidate.
func occurrences(matches []TermMatch) []occurrence {
	n := 0
	for _, m := range matches {
		n += len(m.Positions)
	}
	all := make([]occurrence, 0, n)
	for i, m := range matches {
		for _, p := range m.Positions {
			all = append(all, occurrence{p, i, m.Term})
		}
	}
	slices.SortFunc(all, func(a, b occurrence) int { return a.pos - b.pos })
	return all
}

// windowCoverage returns the largest IDF-weighted share of the query's
// terms that occur together within w consecutive positions; all is
// occurrences of the matches.
func windowCoverage(all []occurrence, idfs []float64, idfSum float64, w int) float64 {
	if idfSum == 0 {
		return 0
	}
	count := make([]int, len(idfs))
	var cur, best float64
	lo := 0
	for _, o := range all {
		if count[o.term] == 0 {
			cur += idfs[o.term]
		}
		count[o.term]++
		for o.pos-all[lo].pos >= w {
			count[all[lo].term]--
			if count[all[lo].term] == 0 {
				cur -= idfs[all[lo].term]
			}
			lo++
		}
		best = max(best, cur)
	}
	return best / idfSum
}

// missingIDF returns the IDF of the rarest query term the document lacks,
// as a share of the rarest query term's IDF (0 when it has them all).
func missingIDF(matches []TermMatch, idfs []float64) float64 {
	matched := make([]bool, len(idfs))
	for _, m := range matches {
		matched[m.Term] = true
	}
	var top, missing float64
	for t, idf := range idfs {
		top = max(top, idf)
		if !matched[t] {
			missing = max(missing, idf)
		}
	}
	if top <= 0 {
		return 0
	}
	return missing / top
}

// shortestCover returns the length in positions of the shortest window that
// holds at least one position of each of the n matches that all, their
// occurrences, lists.
func shortestCover(all []occurrence, n int) int {
	count := make([]int, n)
	have, best, lo := 0, math.MaxInt, 0
	for _, o := range all {
		if count[o.match] == 0 {
			have++
		}
		count[o.match]++
		for have == n {
			best = min(best, o.pos-all[lo].pos+1)
			count[all[lo].match]--
			if count[all[lo].match] == 0 {
				have--
			}
			lo++
		}
	}
	return best
}

// queryPairs returns the adjacent pairs of the analyzed query as indexes
// into terms, without repeats or self-pairs.
func queryPairs(all [][]byte, terms []QueryTerm) [][2]int {
	index := func(t []byte) int {
		return slices.IndexFunc(terms, func(q QueryTerm) bool { return string(q.Text) == string(t) })
	}
	var out [][2]int
	for i := 1; i < len(all); i++ {
		p := [2]int{index(all[i-1]), index(all[i])}
		if p[0] != p[1] && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// pairFeatures returns the IDF-weighted shares of query pairs found in
// order within 2 positions and in any order within 8.
func (c *FeatureDoc) pairFeatures(pairs [][2]int, idfs []float64) (ordered, unordered float64) {
	if len(pairs) == 0 {
		return 0, 0
	}
	pos := make(map[int][]int, len(c.Matches))
	for _, m := range c.Matches {
		pos[m.Term] = m.Positions
	}
	var total float64
	for _, p := range pairs {
		w := idfs[p[0]] + idfs[p[1]]
		total += w
		a, b := pos[p[0]], pos[p[1]]
		if len(a) == 0 || len(b) == 0 {
			continue
		}
		if within(a, b, 1, 2) {
			ordered += w
		}
		if within(a, b, -8, 8) {
			unordered += w
		}
	}
	return ordered / total, unordered / total
}

// within reports whether some y in b and x in a have lo <= y-x <= hi (and
// y != x). Both lists are ascending.
func within(a, b []int, lo, hi int) bool {
	j := 0
	for _, x := range a {
		for j < len(b) && b[j]-x < lo {
			j++
		}
		for k := j; k < len(b) && b[k]-x <= hi; k++ {
			if b[k] != x {
				return true
			}
		}
	}
	return false
}
