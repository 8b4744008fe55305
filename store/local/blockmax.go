package local

import (
	"cmp"
	"math"
	"path/filepath"
	"slices"

	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Block-max MaxScore: the bounds topBM25 takes from the segments' impacts
// (impacts.go), block by block, and the windows it scores with them.

// scoreBlock is the most a term adds to the score of any document up to
// last (a snapshot's document number) and after the block before.
type scoreBlock struct {
	last  uint64
	bound float64
}

// maxIn returns the most the term adds to a document in [lo, hi). lo never
// decreases from one call to the next.
func (c *postingCursor) maxIn(lo, hi uint64) float64 {
	for c.bi < len(c.blocks) && c.blocks[c.bi].last < lo {
		c.bi++
	}
	m := 0.0
	for j := c.bi; j < len(c.blocks); j++ {
		if j > c.bi && c.blocks[j-1].last+1 >= hi {
			break
		}
		m = max(m, c.blocks[j].bound)
	}
	return m
}

// boundAt returns the most the term adds to the score of doc, by the block
// that would hold it. doc never decreases from one call to the next, and
// the cursor was last moved to a document at or before it.
func (c *postingCursor) boundAt(doc uint64) float64 {
	if c.done || c.doc > doc {
		return 0 // the list was moved past doc from at or before it
	}
	for c.di < len(c.blocks) && c.blocks[c.di].last < doc {
		c.di++
	}
	if c.di == len(c.blocks) {
		return 0
	}
	return c.blocks[c.di].bound
}

// blockEnd returns the first document after the block that holds at, at
// or after the window's start.
func (c *postingCursor) blockEnd(at uint64) uint64 {
	for j := c.bi; j < len(c.blocks); j++ {
		if b := c.blocks[j]; b.last >= at {
			if b.last == math.MaxUint64 {
				return b.last
			}
			return b.last + 1
		}
	}
	return math.MaxUint64
}

// snapshotSegments are a snapshot's segments in document-number order, with
// the impacts known of each (nil for none).
type snapshotSegments struct {
	offsets []uint64 // each segment's first document number
	counts  []uint64
	impacts []*segmentImpacts
}

// segments lists r's segments with their impacts, asking for the impacts of
// those big enough to have some that are not known yet.
func (p *keywordPlan) segments(r index.IndexReader) snapshotSegments {
	var out snapshotSegments
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok || p.impacts == nil {
		return out
	}
	next := uint64(0)
	missing := false
	for _, ss := range snap.Segments() {
		n := ss.Segment().Count()
		var si *segmentImpacts
		if ps, ok := ss.Segment().(segment.PersistedSegment); ok && n >= minImpactDocs {
			if si = p.impacts.get(filepath.Base(ps.Path())); si == nil {
				missing = true
			}
		}
		out.offsets = append(out.offsets, next)
		out.counts = append(out.counts, n)
		out.impacts = append(out.impacts, si)
		next += n
	}
	if missing {
		p.impacts.want()
	}
	return out
}

// blocks returns the score blocks of cursor c's term in field: a segment
// with impacts gives one per block of its postings there (none when the
// term is not in it), one without them a single block bounded by c.bound.
// Without segments, it is one block over the whole snapshot.
func (ss snapshotSegments) blocks(c *postingCursor, field string) []scoreBlock {
	if len(ss.offsets) == 0 {
		return []scoreBlock{{last: math.MaxUint64, bound: c.bound}}
	}
	var out []scoreBlock
	for i, si := range ss.impacts {
		if ss.counts[i] == 0 {
			continue
		}
		if si == nil {
			out = append(out, scoreBlock{last: ss.offsets[i] + ss.counts[i] - 1, bound: c.bound})
			continue
		}
		blocks := si.blocks(field, c.term)
		for j := range blocks {
			out = append(out, scoreBlock{last: ss.offsets[i] + uint64(blocks[j].last), bound: blocks[j].bound(c.bm, c.idf, c.avgdl)})
		}
	}
	return out
}

// window scores the documents from lo, the next candidate, to the end of
// the block of an essential list's current document, with each term
// bounded by its blocks in the window.
func (m *maxScore) window(lo uint64) error {
	hi := uint64(math.MaxUint64)
	for _, c := range m.byBound[m.essential:] {
		if !c.done {
			hi = min(hi, c.blockEnd(max(c.doc, lo)))
		}
	}
	// Every list was last moved to a document at or before lo: one that
	// stands at or after hi has nothing in the window, one before lo may
	// have anything from lo on.
	for _, c := range m.cursors {
		c.wmax = 0
		if !c.done && c.doc < hi {
			c.wmax = c.maxIn(max(lo, c.doc), hi)
		}
	}
	// The terms non-essential over the whole lists stay so in the window
	// (their window bounds add up to less than their bounds); of the
	// others, the weakest in the window join them while the sum stays
	// below the last place. So the window reads no list the plain
	// MaxScore would not.
	copy(m.byWindow, m.byBound)
	byWmax := func(a, b *postingCursor) int { return cmp.Compare(a.wmax, b.wmax) }
	slices.SortStableFunc(m.byWindow[:m.essential], byWmax)
	slices.SortStableFunc(m.byWindow[m.essential:], byWmax)
	sum := 0.0
	for j, c := range m.byWindow {
		sum += c.wmax
		m.wreach[j] = sum
	}
	first := m.firstEssential(m.wreach, 0)
	for _, c := range m.byWindow[first:] {
		if !c.done && c.doc < lo {
			if err := c.advance(lo); err != nil {
				return err
			}
		}
	}
	for first < len(m.byWindow) {
		doc, any := uint64(0), false
		for _, c := range m.byWindow[first:] {
			if !c.done && c.doc < hi && (!any || c.doc < doc) {
				doc, any = c.doc, true
			}
		}
		if !any {
			break
		}
		if err := m.scoreDoc(doc, m.byWindow, first, m.wreach); err != nil {
			return err
		}
		first = m.firstEssential(m.wreach, first)
	}
	// Every document before hi is decided; the lists the window did not
	// read stay where they are until a window or a candidate needs them.
	m.settled = hi
	return nil
}

// reachAt returns, for each j, the most order[:j+1] can add to doc's score
// by the blocks holding doc in their lists.
func (m *maxScore) reachAt(doc uint64, order []*postingCursor) []float64 {
	sum := 0.0
	for j, c := range order {
		sum += c.boundAt(doc)
		m.dreach[j] = sum
	}
	return m.dreach[:len(order)]
}
