package local

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari/store"
)

// postingCursor reads one query term's posting list in one body field, in
// document-number order (bleve numbers a snapshot's documents segment after
// segment, and each segment's postings ascend).
type postingCursor struct {
	pos   int // in the query's term order
	term  string
	tfr   index.TermFieldReader
	bm    store.BM25 // its field's parameters
	idf   float64
	avgdl float64
	// bound is the most the term can add to any document's score: BM25's
	// term score approaches idf·(k1+1) as the term frequency grows, and
	// never exceeds it whatever the document's length.
	bound float64
	// blocks bound the term's score block by block (impacts.go), in
	// document order: block i covers the documents after blocks[i-1].last
	// up to its own last. bi is the first block not wholly behind the
	// window being scored.
	blocks []scoreBlock
	bi     int
	di     int // the block boundAt last looked at
	// wmax is the most the term adds to a document of the current window.
	wmax float64

	done bool
	doc  uint64
	tfd  index.TermFieldDoc
	seek index.IndexInternalID
}

// next moves to the list's next posting.
func (c *postingCursor) next() error {
	p, err := c.tfr.Next(&c.tfd)
	return c.land(p, err)
}

// advance moves to the first posting at or after document target. It must
// only be called while the cursor is before target: bleve restarts a list
// asked to move backwards.
func (c *postingCursor) advance(target uint64) error {
	c.seek = index.NewIndexInternalID(c.seek, target)
	p, err := c.tfr.Advance(c.seek, &c.tfd)
	return c.land(p, err)
}

func (c *postingCursor) land(p *index.TermFieldDoc, err error) error {
	if err != nil {
		return fmt.Errorf("read postings of %q: %w", c.term, err)
	}
	if p == nil {
		c.done = true
		return nil
	}
	c.doc = p.ID.Value()
	return nil
}

// score is the term's BM25 score in the current document. bleve stores norm
// = 1/sqrt(field length) as a float32; rounding recovers the exact length.
func (c *postingCursor) score() float64 {
	dl := math.Round(1 / float64(c.tfd.Norm*c.tfd.Norm))
	return c.bm.TermScore(c.idf, float64(c.tfd.Freq), dl, c.avgdl)
}

// openCursors opens a cursor on each query term's postings in each field
// searched, positioned on its first posting. IDF is taken over the whole
// collection, with a term's document frequency the largest it has in any
// field searched (the blending of Elasticsearch's cross_fields queries): a
// word is not made rare by being counted only among one language's
// documents. On a collection in one language this is exactly BM25 over that
// language's field.
func (s *Store) openCursors(ctx context.Context, r index.IndexReader, plan *keywordPlan) ([]*postingCursor, error) {
	var cursors []*postingCursor
	fail := func(err error) ([]*postingCursor, error) {
		closeCursors(cursors)
		return nil, err
	}
	df := map[string]uint64{}
	field := map[*postingCursor]string{}
	for _, f := range plan.fields {
		docs, avgdl := plan.stats.field(f.Field)
		if docs <= 0 {
			continue
		}
		for _, term := range f.Terms {
			tfr, err := r.TermFieldReader(ctx, []byte(term), f.Field, true, true, false)
			if err != nil {
				return fail(fmt.Errorf("read postings of %q in %s: %w", term, f.Field, err))
			}
			c := &postingCursor{pos: len(cursors), term: term, bm: s.opts.fieldBM25(f.Field), avgdl: avgdl, tfr: tfr}
			cursors = append(cursors, c)
			field[c] = f.Field
			df[term] = max(df[term], tfr.Count())
		}
	}
	n := float64(plan.stats.Docs)
	segs := plan.segments(r)
	for _, c := range cursors {
		c.idf = c.bm.IDF(n, float64(df[c.term]))
		c.bound = c.idf * (c.bm.K1 + 1)
		c.blocks = segs.blocks(c, field[c])
		if err := c.next(); err != nil {
			return fail(err)
		}
	}
	return cursors, nil
}

func closeCursors(cursors []*postingCursor) {
	for _, c := range cursors {
		c.tfr.Close()
	}
}

// topBM25 returns the limit documents with the best BM25 scores over fields
// among those allow admits, with every document tied with the last of them.
// A document's body is in one field, so its score comes from that field
// alone. completed counts the documents whose score was summed in full.
//
// It reads the posting lists document at a time with MaxScore pruning
// (Turtle and Flood, "Query evaluation: strategies and optimizations",
// 1995): once the top is full, the terms whose bounds together cannot lift
// a document to the last place are non-essential. Only documents in an
// essential term's list are candidates; the non-essential lists are skipped
// forward to them, and not even that once a candidate's partial score plus
// the remaining bounds falls short. As the last place rises, more terms
// become non-essential, so the long lists of common terms are mostly
// skipped rather than read.
//
// Once the top is full it goes window by window, a window ending with the
// block of an essential list's current document, and bounds each term by
// its blocks in the window (block-max MaxScore, as Lucene's
// MaxScoreBulkScorer; blockmax.go): a window no document of which can
// reach the last place is skipped whole; within one, terms whose blocks
// there are weak are non-essential though their lists hold strong blocks
// elsewhere, and a candidate is given up on by the blocks that hold it.
//
// The result is exactly that of scoring every posting: a document is
// passed over only when its score is certainly below the last place, and
// each score is summed in the query's term order whatever was read first,
// so equal scores stay equal.
func (s *Store) topBM25(ctx context.Context, r index.IndexReader, plan *keywordPlan, limit int) (best []scored, completed int, err error) {
	cursors, err := s.openCursors(ctx, r, plan)
	if err != nil {
		return nil, 0, err
	}
	defer closeCursors(cursors)
	m := newMaxScore(cursors, limit, plan.allow)
	for step := 0; ; step++ {
		if step%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
		}
		lo, ok := m.nextCandidate()
		if !ok {
			break
		}
		if m.top.full() {
			err = m.window(lo)
		} else {
			err = m.scoreDoc(lo, m.byBound, m.essential, m.reach)
		}
		if err != nil {
			return nil, 0, err
		}
	}
	return m.top.ranked(), m.completed, nil
}

// maxScore is the state of one topBM25.
type maxScore struct {
	cursors []*postingCursor
	allow   docSet
	top     *topScores
	// byBound orders the cursors by bound, smallest first; reach[j] is the
	// most the first j+1 of them can add together; byBound[essential:]
	// are essential.
	byBound   []*postingCursor
	reach     []float64
	essential int
	// byWindow and wreach are byBound and reach for the current window's
	// bounds.
	byWindow []*postingCursor
	wreach   []float64
	// dreach is reach for the blocks holding the document being scored.
	dreach []float64
	// settled is the end of the last window: every document before it is
	// decided, wherever the lists a window did not read still stand.
	settled uint64
	// contrib holds the current document's score per term, by pos.
	contrib   []float64
	completed int
}

func newMaxScore(cursors []*postingCursor, limit int, allow docSet) *maxScore {
	m := &maxScore{cursors: cursors, allow: allow, top: newTopScores(limit),
		byBound: slices.Clone(cursors), reach: make([]float64, len(cursors)),
		byWindow: slices.Clone(cursors), wreach: make([]float64, len(cursors)), dreach: make([]float64, len(cursors)),
		contrib: make([]float64, len(cursors))}
	slices.SortStableFunc(m.byBound, func(a, b *postingCursor) int { return cmp.Compare(a.bound, b.bound) })
	sum := 0.0
	for j, c := range m.byBound {
		sum += c.bound
		m.reach[j] = sum
	}
	return m
}

// nextCandidate returns the first document an essential list stands on
// that is not settled.
func (m *maxScore) nextCandidate() (uint64, bool) {
	doc, any := uint64(0), false
	for _, c := range m.byBound[m.essential:] {
		if !c.done && (!any || c.doc < doc) {
			doc, any = c.doc, true
		}
	}
	if m.settled == math.MaxUint64 {
		return 0, false
	}
	return max(doc, m.settled), any
}

// firstEssential returns the first j at or after from whose reach is not
// certainly below the last place: the terms before it cannot lift a
// document there together.
func (m *maxScore) firstEssential(reach []float64, from int) int {
	for from < len(reach) && below(reach[from], m.top.last()) {
		from++
	}
	return from
}

// scoreDoc scores doc, the first document order[first:] stand on: it reads
// those lists' postings at doc and moves them past it, then skips
// order[:first] forward to doc, strongest first, and gives up once the
// partial score plus reach[j], what order[:j+1] can add, falls below the
// last place.
func (m *maxScore) scoreDoc(doc uint64, order []*postingCursor, first int, reach []float64) error {
	admitted := m.allow.has(doc)
	partial := 0.0
	for _, c := range order[first:] {
		if c.done || c.doc != doc {
			continue
		}
		if admitted {
			sc := c.score()
			m.contrib[c.pos] = sc
			partial += sc
		}
		if err := c.next(); err != nil {
			return err
		}
	}
	if !admitted {
		return nil
	}
	if m.top.full() {
		reach = m.reachAt(doc, order[:first])
	}
	pruned := false
	for j := first - 1; j >= 0; j-- {
		if m.top.full() && below(partial+reach[j], m.top.last()) {
			pruned = true
			break
		}
		c := order[j]
		if !c.done && c.doc < doc {
			if err := c.advance(doc); err != nil {
				return err
			}
		}
		if !c.done && c.doc == doc {
			sc := c.score()
			m.contrib[c.pos] = sc
			partial += sc
		}
	}
	total := 0.0
	for i, sc := range m.contrib {
		total += sc
		m.contrib[i] = 0
	}
	if pruned {
		return nil
	}
	m.completed++
	if m.top.offer(scored{num: doc, score: total}) {
		m.essential = m.firstEssential(m.reach, m.essential)
	}
	return nil
}

// below reports whether a bound is certainly under the last place: by more
// than the rounding of summing the same terms in another order.
func below(bound, last float64) bool {
	return bound < last-1e-9*math.Abs(last)
}

// topScores keeps the limit best scores seen, and the documents tied with
// the last of them: ties are ordered by document ID, which only resolving
// them tells.
type topScores struct {
	limit int
	h     minHeap
	ties  []scored
}

func newTopScores(limit int) *topScores {
	return &topScores{limit: limit, h: make(minHeap, 0, limit)}
}

func (t *topScores) full() bool { return len(t.h) >= t.limit }

// last is the score of the last place; meaningful once full.
func (t *topScores) last() float64 { return t.h[0].score }

// offer adds e if it reaches the top, and reports whether the last place
// rose.
func (t *topScores) offer(e scored) bool {
	if !t.full() {
		heap.Push(&t.h, e)
		return t.full()
	}
	last := t.h[0]
	switch {
	case e.score == last.score:
		t.ties = append(t.ties, e)
		return false
	case e.score < last.score:
		return false
	}
	t.h[0] = e
	heap.Fix(&t.h, 0)
	if t.h[0].score == last.score {
		t.ties = append(t.ties, last)
		return false
	}
	t.ties = t.ties[:0] // all below the new last place
	return true
}

// ranked returns the top and the documents tied with its last place.
func (t *topScores) ranked() []scored {
	if len(t.h) == 0 {
		return nil
	}
	out := slices.Clone(t.h)
	for _, e := range t.ties {
		if e.score == t.h[0].score {
			out = append(out, e)
		}
	}
	return out
}

// resolveHits resolves the IDs of the best documents and returns the limit
// best, equal scores ordered by document ID: internal numbers change when
// segments merge, IDs do not, so the same query on the same documents always
// returns the same list.
func resolveHits(r index.IndexReader, best []scored, limit int) ([]store.Hit, error) {
	hits := make([]store.Hit, len(best))
	buf := make(index.IndexInternalID, 8)
	for i, e := range best {
		buf.SetValue(e.num)
		id, err := r.ExternalID(buf)
		if err != nil {
			return nil, fmt.Errorf("resolve document %d: %w", e.num, err)
		}
		hits[i] = store.Hit{ID: id, Score: e.score}
	}
	slices.SortFunc(hits, func(a, b store.Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return hits[:min(limit, len(hits))], nil
}

type scored struct {
	num   uint64
	score float64
}

// better orders by score, then by internal number.
func (a scored) better(b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.num < b.num
}

// minHeap keeps the worst of the best at the root.
type minHeap []scored

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[j].better(h[i]) }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
