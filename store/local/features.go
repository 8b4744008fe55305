package local

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/cari-search/cari/store"

	index "github.com/blevesearch/bleve_index_api"
)

// MatchFeatures computes store.MatchFeatures of the documents ids for a
// query, from the postings with positions (term vectors) of the query's
// terms, reading only the candidates' entries. IDs not stored are absent.
func (s *Store) MatchFeatures(ctx context.Context, query string, ids []string) (map[string]store.MatchFeatures, error) {
	r, release, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	cands, err := candidates(r, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]store.MatchFeatures, len(cands))
	if len(cands) == 0 {
		return out, nil
	}
	// Features compare the query with one body field: the one most
	// candidates are in (candidates of another language match nothing).
	field := majorityField(cands)
	all := s.analyzer.terms(field, query)
	terms := distinctTerms(all)
	pairs := queryPairs(all, terms)
	n, avgdl, err := collectionStats(r, field)
	if err != nil {
		return nil, err
	}
	bm := s.opts.fieldBM25(field)
	idfs := make([]float64, len(terms))
	var idfSum float64
	for ti, term := range terms {
		tfr, err := r.TermFieldReader(ctx, term.text, field, true, true, true)
		if err != nil {
			return nil, fmt.Errorf("read postings of %q: %w", term.text, err)
		}
		idfs[ti] = bm.IDF(float64(n), float64(tfr.Count()))
		idfSum += idfs[ti]
		var tfd index.TermFieldDoc
		for _, c := range cands {
			p, err := tfr.Advance(c.num, &tfd)
			if err != nil {
				tfr.Close()
				return nil, err
			}
			if p == nil {
				break
			}
			if !p.ID.Equals(c.num) {
				continue
			}
			c.length = math.Round(1 / float64(p.Norm*p.Norm))
			m := termMatch{term: ti}
			for _, v := range p.Vectors {
				m.positions = append(m.positions, int(v.Pos))
				if int(v.Start) < c.titleBytes {
					m.inTitle = true
					m.titleFreq++
				}
			}
			c.matches = append(c.matches, m)
			c.bm25 += float64(term.count) * bm.TermScore(idfs[ti], float64(p.Freq), c.length, avgdl)
		}
		tfr.Close()
	}
	finishFeatures(out, cands, terms, pairs, idfs, idfSum, bm, func(title string) int { return len(s.analyzer.terms(field, title)) })
	return out, ctx.Err()
}

// finishFeatures computes the features of candidates whose matches are
// collected, into out. titleTerms counts a title's analysed terms. The
// Qdrant store collects matches from stored text (Analysis.MatchFeatures)
// and finishes them here too, so both stores compute the same features.
func finishFeatures(out map[string]store.MatchFeatures, cands []*candidate, terms []queryTerm, pairs [][2]int, idfs []float64, idfSum float64, bm BM25, titleTerms func(string) int) {
	var avgTitle float64
	for _, c := range cands {
		c.titleLength = float64(titleTerms(c.title))
		avgTitle += c.titleLength / float64(len(cands))
	}
	for _, c := range cands {
		occ := occurrences(c.matches)
		f := c.features(idfs, idfSum, occ)
		f.OrderedPairs, f.UnorderedPairs = c.pairFeatures(pairs, idfs)
		for _, m := range c.matches {
			if m.titleFreq > 0 {
				f.TitleBM25 += float64(terms[m.term].count) * bm.TermScore(idfs[m.term], float64(m.titleFreq), c.titleLength, max(avgTitle, 1))
			}
		}
		f.MissingIDF = missingIDF(c.matches, idfs)
		for i, w := range store.WindowSpans {
			f.WindowCoverage[i] = windowCoverage(occ, idfs, idfSum, w)
		}
		out[c.id] = f
	}
}

type queryTerm struct {
	text  []byte
	count int
}

func distinctTerms(terms [][]byte) []queryTerm {
	var out []queryTerm
	for _, t := range terms {
		i := slices.IndexFunc(out, func(q queryTerm) bool { return string(q.text) == string(t) })
		if i >= 0 {
			out[i].count++
			continue
		}
		out = append(out, queryTerm{text: t, count: 1})
	}
	return out
}

type termMatch struct {
	term      int
	positions []int
	inTitle   bool
	titleFreq int
}

// candidate collects one document's matches, in internal-number order so
// that each posting list is read forward once.
type candidate struct {
	id         string
	num        index.IndexInternalID
	titleBytes int
	title      string
	field      string // the body field
	length     float64
	// titleLength is the title's analyzed length in tokens.
	titleLength float64
	bm25        float64
	matches     []termMatch
}

func candidates(r index.IndexReader, ids []string) ([]*candidate, error) {
	var out []*candidate
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		num, err := r.InternalID(id)
		if err != nil {
			return nil, err
		}
		if num == nil {
			continue
		}
		doc, err := r.Document(id)
		if err != nil {
			return nil, err
		}
		c := &candidate{id: id, num: num}
		if doc != nil {
			doc.VisitFields(func(f index.Field) {
				switch f.Name() {
				case fieldTitle:
					c.titleBytes = len(f.Value())
					c.title = string(f.Value())
				case fieldBodyField:
					c.field = string(f.Value())
				}
			})
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *candidate) int { return a.num.Compare(b.num) })
	return out, nil
}

// majorityField returns the body field most candidates are in, English on
// a tie.
func majorityField(cands []*candidate) string {
	count := map[string]int{}
	best := fieldBody
	for _, c := range cands {
		count[c.field]++
		if c.field != "" && count[c.field] > count[best] {
			best = c.field
		}
	}
	return best
}

// features computes the features of single terms and their proximity;
// occ is occurrences(c.matches).
func (c *candidate) features(idfs []float64, idfSum float64, occ []occurrence) store.MatchFeatures {
	f := store.MatchFeatures{BM25: c.bm25, Length: c.length, FirstMatch: 1}
	if len(c.matches) == 0 || idfSum == 0 {
		return f
	}
	first := math.MaxInt
	for _, m := range c.matches {
		f.Coverage += idfs[m.term] / idfSum
		if m.inTitle {
			f.TitleCoverage += idfs[m.term] / idfSum
		}
		first = min(first, slices.Min(m.positions))
	}
	if c.length > 0 {
		f.FirstMatch = min(1, float64(first-1)/c.length)
	}
	f.Proximity = float64(len(c.matches)) / float64(shortestCover(occ, len(c.matches)))
	return f
}

// occurrence is one position of a matched term: match indexes the
// candidate's matches, term the query's terms.
type occurrence struct{ pos, match, term int }

// occurrences lists the positions of matches in document order, once for
// the proximity and window features of a candidate.
func occurrences(matches []termMatch) []occurrence {
	n := 0
	for _, m := range matches {
		n += len(m.positions)
	}
	all := make([]occurrence, 0, n)
	for i, m := range matches {
		for _, p := range m.positions {
			all = append(all, occurrence{p, i, m.term})
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
func missingIDF(matches []termMatch, idfs []float64) float64 {
	matched := make([]bool, len(idfs))
	for _, m := range matches {
		matched[m.term] = true
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
func queryPairs(all [][]byte, terms []queryTerm) [][2]int {
	index := func(t []byte) int {
		return slices.IndexFunc(terms, func(q queryTerm) bool { return string(q.text) == string(t) })
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
func (c *candidate) pairFeatures(pairs [][2]int, idfs []float64) (ordered, unordered float64) {
	if len(pairs) == 0 {
		return 0, 0
	}
	pos := make(map[int][]int, len(c.matches))
	for _, m := range c.matches {
		pos[m.term] = m.positions
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
