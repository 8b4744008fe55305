package hnsw

import (
	"cmp"
	"fmt"
	"slices"
)

// Search returns the limit documents whose best passage is most similar to
// q, best first, among those f allows. It walks the graph unless an exact
// scan is cheaper: the index is small, or the filter allows few passages.
// A filtered walk collects only allowed passages but travels through all;
// it gives up for an exact scan when it has cost more than that scan would,
// and a walk that finds fewer documents than it should widens its candidate
// list, then falls back to the exact scan, so that a filtered search still
// fills its results whenever enough documents match.
func (x *Index) Search(q []float32, limit int, f *Filter) ([]Hit, error) {
	if len(q) != x.dim {
		return nil, fmt.Errorf("query vector has %d dimensions, the index has %d", len(q), x.dim)
	}
	if limit <= 0 {
		return nil, nil
	}
	qn := slices.Clone(q)
	Normalize(qn)
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.live == 0 {
		return nil, nil
	}
	s, _ := x.visits.Get().(*searchScratch)
	if s == nil {
		s = new(searchScratch)
	}
	defer x.visits.Put(s)

	docs, passages := x.markFilter(f, s)
	want := min(limit, docs)
	if want == 0 {
		return nil, nil
	}
	if x.preferExact(passages) {
		return x.exact(qn, limit, f, s), nil
	}
	accept := x.acceptor(f, s)
	budget := 0
	if f != nil {
		budget = passages
	}
	for ef := x.startEf(limit); ; ef *= 2 {
		hits, full, ok := x.walk(qn, limit, ef, accept, s, budget)
		if !ok {
			break
		}
		if len(hits) >= want {
			return hits, nil
		}
		if !full || ef >= x.live {
			break
		}
	}
	return x.exact(qn, limit, f, s), nil
}

// startEf is the candidate list length a search for limit documents starts
// with. Documents have several passages, of which a walk keeps the best, so
// the default list (DefaultEfSearch) grows to limit times the passages of
// an average document when that is longer; another EfSearch scales that
// length by the same factor, so that a shorter list than the default is
// shorter on every corpus, not only on those of one passage per document.
func (x *Index) startEf(limit int) int {
	perDoc := (x.live + x.liveDocs - 1) / x.liveDocs
	return max(x.p.EfSearch, (limit*perDoc*x.p.EfSearch+DefaultEfSearch-1)/DefaultEfSearch)
}

// markFilter marks in s.allow the live documents f names, and returns how
// many documents and passages f allows.
func (x *Index) markFilter(f *Filter, s *searchScratch) (docs, passages int) {
	if f == nil {
		return x.liveDocs, x.live
	}
	s.allow.reset(len(x.docIDs))
	for id := range f.IDs {
		d, ok := x.docNums[id]
		if !ok || len(x.docNodes[d]) == 0 {
			continue
		}
		s.allow.set(d)
		docs++
		passages += len(x.docNodes[d])
	}
	if f.Exclude {
		return x.liveDocs - docs, x.live - passages
	}
	return docs, passages
}

// exactWalkRatio estimates how many distances an unfiltered walk on layer 0
// computes per unit of ef (measured at ef 64 to 192 with M=16: 8 to 11 on
// SciFact's passages, 14 to 17 on 60,000 GloVe words).
const exactWalkRatio = 16

// preferExact reports whether scanning the allowed passages costs less than
// walking the graph. A walk that keeps a share s of the passages computes
// about exactWalkRatio*ef/s distances; the scan computes s*live.
func (x *Index) preferExact(passages int) bool {
	if x.p.ExactBelow < 0 {
		return false
	}
	if passages <= x.p.ExactBelow {
		return true
	}
	return float64(passages)*float64(passages) < exactWalkRatio*float64(x.p.EfSearch)*float64(x.live)
}

// ScansExactly reports whether an unfiltered search scans every passage
// instead of walking the graph: the index is small, or EfSearch is so long
// that a walk would cost more.
func (x *Index) ScansExactly() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.preferExact(x.live)
}

// acceptor returns which nodes a walk may return: live, and allowed by f
// (whose documents markFilter marked).
func (x *Index) acceptor(f *Filter, s *searchScratch) func(int32) bool {
	if f == nil {
		return func(n int32) bool { return visible(x.state[n]) }
	}
	return func(n int32) bool {
		return visible(x.state[n]) && s.allow.has(x.doc[n]) != f.Exclude
	}
}

// walk descends the graph to layer 0 and collects the ef nearest accepted
// passages there, then keeps each document's best, up to limit. full reports
// whether the candidate list filled up (so a longer one may find more); ok is
// false when the walk computed more than budget distances (0: no budget).
func (x *Index) walk(q []float32, limit, ef int, accept func(int32) bool, s *searchScratch, budget int) (hits []Hit, full, ok bool) {
	cur := nodeDist{x.entry, x.distance(q, x.entry)}
	for l := x.maxLevel; l > 0; l-- {
		cur = x.greedy(q, cur, l)
	}
	w, ok := x.searchLayer(q, []nodeDist{cur}, ef, 0, accept, s, budget, nil)
	if !ok {
		return nil, false, false
	}
	slices.SortFunc(w, byDist)
	s.docs.reset(len(x.docIDs))
	hits = make([]Hit, 0, min(limit, len(w)))
	for _, c := range w {
		d := x.doc[c.id]
		if s.docs.has(d) {
			continue
		}
		s.docs.set(d)
		hits = append(hits, Hit{ID: x.docIDs[d], Passage: int(x.ord[c.id]), Score: float64(-c.dist)})
		if len(hits) == limit {
			break
		}
	}
	return bestPassages(hits, limit), len(w) >= ef, true
}

// greedy moves from cur to ever nearer neighbours on layer l until none is
// nearer.
func (x *Index) greedy(q []float32, cur nodeDist, l int) nodeDist {
	for changed := true; changed; {
		changed = false
		for _, e := range x.neighbors(cur.id, l) {
			if d := x.distance(q, e); d < cur.dist {
				cur, changed = nodeDist{e, d}, true
			}
		}
	}
	return cur
}

// searchLayer is the paper's algorithm 2: a best-first walk on layer l from
// eps that keeps the ef nearest accepted nodes. Nodes that are not accepted
// (tombstones, filtered out) still lead on to their neighbours. The result
// lives in s and is unordered. A budget above 0 gives up (false) once the
// walk has computed more distances than that. An insertion searching ahead
// passes rec, which records every neighbour list the walk reads.
func (x *Index) searchLayer(q []float32, eps []nodeDist, ef, l int, accept func(int32) bool, s *searchScratch, budget int, rec *linkSearch) ([]nodeDist, bool) {
	s.visited.reset(len(x.doc))
	near, far := s.near[:0], s.far[:0] // far holds negated distances: its top is the worst
	for _, e := range eps {
		if s.visited.has(e.id) {
			continue
		}
		s.visited.set(e.id)
		near.push(e)
		if accept(e.id) {
			far.push(nodeDist{e.id, -e.dist})
		}
	}
	for len(far) > ef {
		far.pop()
	}
	computed := 0
	for len(near) > 0 {
		c := near.pop()
		if len(far) >= ef && c.dist > -far[0].dist {
			break
		}
		if rec != nil {
			rec.read = append(rec.read, readKey(l, c.id))
		}
		for _, e := range x.neighbors(c.id, l) {
			if s.visited.has(e) {
				continue
			}
			s.visited.set(e)
			d := x.distance(q, e)
			computed++
			if len(far) >= ef && d >= -far[0].dist {
				continue
			}
			near.push(nodeDist{e, d})
			if accept(e) {
				far.push(nodeDist{e, -d})
				if len(far) > ef {
					far.pop()
				}
			}
		}
		if budget > 0 && computed > budget {
			s.near, s.far = near, far
			return nil, false
		}
	}
	s.near, s.far = near, far
	for i := range far {
		far[i].dist = -far[i].dist
	}
	return far, true
}

// exact scores every passage f allows and returns each document's best, the
// limit best documents first. Documents f names are looked up directly; an
// exclusion (or no filter) scans all documents.
func (x *Index) exact(q []float32, limit int, f *Filter, s *searchScratch) []Hit {
	top := hitHeap{limit: limit}
	consider := func(d int32) {
		nodes := x.docNodes[d]
		if len(nodes) == 0 {
			return
		}
		best, score := nodes[0], dot(q, x.vector(nodes[0]))
		for _, n := range nodes[1:] {
			if sc := dot(q, x.vector(n)); sc > score {
				best, score = n, sc
			}
		}
		top.offer(Hit{ID: x.docIDs[d], Passage: int(x.ord[best]), Score: float64(score)})
	}
	if f != nil && !f.Exclude {
		for id := range f.IDs {
			if d, ok := x.docNums[id]; ok {
				consider(d)
			}
		}
	} else {
		for d := range x.docNodes {
			if f == nil || !s.allow.has(int32(d)) {
				consider(int32(d))
			}
		}
	}
	return bestPassages(top.hits, limit)
}

// nodeDist is a node and its distance to the point searched for.
type nodeDist struct {
	id   int32
	dist float32
}

func byDist(a, b nodeDist) int {
	if c := cmp.Compare(a.dist, b.dist); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// nodeHeap is a binary heap of candidates, nearest on top.
type nodeHeap []nodeDist

func (h *nodeHeap) push(c nodeDist) {
	*h = append(*h, c)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p].dist <= a[i].dist {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *nodeHeap) pop() nodeDist {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a = a[:last]
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(a) {
			break
		}
		if r := l + 1; r < len(a) && a[r].dist < a[l].dist {
			l = r
		}
		if a[i].dist <= a[l].dist {
			break
		}
		a[i], a[l] = a[l], a[i]
		i = l
	}
	*h = a
	return top
}

// hitHeap keeps the limit best hits offered, the worst on top.
type hitHeap struct {
	hits  []Hit
	limit int
}

// worse orders hits as bestPassages does, reversed: lower score, then
// greater ID.
func worseHit(a, b Hit) bool {
	if a.Score != b.Score {
		return a.Score < b.Score
	}
	return a.ID > b.ID
}

func (h *hitHeap) offer(hit Hit) {
	a := h.hits
	if len(a) < h.limit {
		a = append(a, hit)
		for i := len(a) - 1; i > 0; {
			p := (i - 1) / 2
			if !worseHit(a[i], a[p]) {
				break
			}
			a[p], a[i] = a[i], a[p]
			i = p
		}
		h.hits = a
		return
	}
	if !worseHit(a[0], hit) {
		return
	}
	a[0] = hit
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(a) {
			break
		}
		if r := l + 1; r < len(a) && worseHit(a[r], a[l]) {
			l = r
		}
		if !worseHit(a[l], a[i]) {
			break
		}
		a[i], a[l] = a[l], a[i]
		i = l
	}
}

// searchScratch is one search's reusable memory.
type searchScratch struct {
	visited epochSet // nodes seen by the walk
	docs    epochSet // documents already among the hits
	allow   epochSet // documents a filter names
	near    nodeHeap
	far     nodeHeap
}

// epochSet is a set of small integers that empties in O(1): a member carries
// the current epoch.
type epochSet struct {
	m     []uint32
	epoch uint32
}

// reset empties the set and makes room for members below n.
func (s *epochSet) reset(n int) {
	if len(s.m) < n {
		s.m = make([]uint32, n+n/4+64)
		s.epoch = 0
	}
	s.epoch++
	if s.epoch == 0 {
		clear(s.m)
		s.epoch = 1
	}
}

func (s *epochSet) set(i int32)      { s.m[i] = s.epoch }
func (s *epochSet) has(i int32) bool { return s.m[i] == s.epoch }
