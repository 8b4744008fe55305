package hnsw

import (
	"slices"
	"sync"
)

// linkPlan is what inserting a node changes: its own links per layer, and
// the neighbour lists that gain it.
type linkPlan struct {
	links   [][]int32 // by layer
	updates []linkUpdate
}

// linkUpdate adds the new node to node's list on layer, or, when list is not
// nil, replaces that list (the pruned list, which may or may not keep it).
type linkUpdate struct {
	node  int32
	layer int
	list  []int32
}

// passageInsert is a node added to the graph, not linked yet.
type passageInsert struct {
	n     int32
	level int
}

// addNode adds a pending, unlinked node for passage ord of document d. No
// link points to it, so no search reaches it.
func (x *Index) addNode(d, ord int32, v []float32) *passageInsert {
	n := int32(len(x.doc))
	level := nodeLevel(n, x.levelMult)
	var vp []float32
	var lp []int32
	if n%pageNodes == 0 { // allocated before taking the lock
		vp, lp = make([]float32, pageNodes*x.dim), make([]int32, pageNodes*(x.m0+1))
	}
	x.mu.Lock()
	if vp != nil {
		x.vecPages, x.linkPages = append(x.vecPages, vp), append(x.linkPages, lp)
	}
	x.appendNodeLocked(n, d, ord, v, level)
	x.mu.Unlock()
	return &passageInsert{n: n, level: level}
}

// addNodeOf is addNode for the document Stage registers next, numbered as
// it will be.
func (x *Index) addNodeOf(id string, ord int32, v []float32) *passageInsert {
	d, ok := x.docNums[id]
	if !ok {
		d = int32(len(x.docIDs)) // the number Stage gives it next
	}
	return x.addNode(d, ord, v)
}

// insert adds a pending node for passage ord of document d and links it
// into the graph. It returns the node's number.
func (x *Index) insert(d, ord int32, v []float32) int32 {
	p := x.addNode(d, ord, v)
	x.insertPair(p, nil)
	return p.n
}

// insertPair links cur into the graph and then, when not nil, next (added
// after cur). The searches for both run at once, on two cores, against the
// graph without either; next's is kept only if it read no neighbour list
// that linking cur changed and cur did not become the entry point: then it
// is the search next would have run after cur, and the graph is the one
// inserting them one after the other builds. Otherwise next searches again.
func (x *Index) insertPair(cur, next *passageInsert) {
	var ahead *linkSearch
	var wg sync.WaitGroup
	if next != nil && x.entry >= 0 {
		wg.Go(func() { ahead = x.searchLinks(next.n, next.level, &x.ahead) })
	}
	plan := x.planLinks(cur.n, cur.level)
	wg.Wait()
	x.mu.Lock()
	x.applyLocked(cur.n, cur.level, plan)
	x.mu.Unlock()
	if next == nil {
		return
	}
	if ahead != nil {
		x.aheadRun++
	}
	if ahead != nil && ahead.unchangedBy(plan, x.entry, x.maxLevel) {
		x.aheadKept++
		plan = x.finishLinks(next.n, next.level, ahead)
	} else {
		plan = x.planLinks(next.n, next.level)
	}
	x.mu.Lock()
	x.applyLocked(next.n, next.level, plan)
	x.mu.Unlock()
}

// appendNodeLocked adds node n's storage (its page exists). No link points
// to it yet, so no search can reach it.
func (x *Index) appendNodeLocked(n, d, ord int32, v []float32, level int) {
	copy(x.vector(n), v)
	Normalize(x.vector(n))
	var up []int32
	if level > 0 {
		up = make([]int32, level*(x.p.M+1))
	}
	x.upper = append(x.upper, up)
	x.doc = append(x.doc, d)
	x.ord = append(x.ord, ord)
	x.state = append(x.state, nodePending)
}

// linkSearch is what the searches for a node's links found: the
// candidates on each layer it links on, nearest first, every (layer, node)
// whose neighbour list the searches read, and the entry point they started
// from.
type linkSearch struct {
	cands    [][]nodeDist // by layer
	read     []uint64     // layer<<32 | node
	entry    int32
	maxLevel int
}

func readKey(l int, n int32) uint64 { return uint64(l)<<32 | uint64(uint32(n)) }

// unchangedBy reports whether s read nothing that applying plan changed:
// the entry point is the same, and no list s read gained or lost a link.
func (s *linkSearch) unchangedBy(plan linkPlan, entry int32, maxLevel int) bool {
	if s.entry != entry || s.maxLevel != maxLevel {
		return false
	}
	changed := make(map[uint64]struct{}, len(plan.updates))
	for _, u := range plan.updates {
		changed[readKey(u.layer, u.node)] = struct{}{}
	}
	for _, k := range s.read {
		if _, ok := changed[k]; ok {
			return false
		}
	}
	return true
}

// searchLinks runs the searches of planLinks for node n, recording what
// they read. Like planLinks it only reads the graph.
func (x *Index) searchLinks(n int32, level int, scratch *searchScratch) *linkSearch {
	s := &linkSearch{cands: make([][]nodeDist, level+1), entry: x.entry, maxLevel: x.maxLevel}
	if x.entry < 0 {
		return s
	}
	q := x.vector(n)
	cur := nodeDist{x.entry, x.distance(q, x.entry)}
	for l := x.maxLevel; l > level; l-- {
		cur = x.greedyRecorded(q, cur, l, s)
	}
	linkable := func(id int32) bool { return linkable(x.state[id]) }
	eps := []nodeDist{cur}
	for l := min(level, x.maxLevel); l >= 0; l-- {
		w, _ := x.searchLayer(q, eps, x.p.EfConstruction, l, linkable, scratch, 0, s)
		slices.SortFunc(w, byDist)
		s.cands[l] = slices.Clone(w) // w lives in the scratch the next layer reuses
		eps = s.cands[l]
	}
	return s
}

// finishLinks turns a search into node n's plan: its neighbours chosen
// among the candidates, and the lists that gain it.
func (x *Index) finishLinks(n int32, level int, s *linkSearch) linkPlan {
	plan := linkPlan{links: make([][]int32, level+1)}
	if s.entry < 0 {
		return plan
	}
	for l := min(level, s.maxLevel); l >= 0; l-- {
		chosen := x.selectNeighbors(s.cands[l], x.p.M)
		plan.links[l] = make([]int32, len(chosen))
		for i, c := range chosen {
			plan.links[l][i] = c.id
			plan.updates = append(plan.updates, x.linkBack(c, n, l))
		}
	}
	return plan
}

// greedyRecorded is greedy, recording the lists it reads.
func (x *Index) greedyRecorded(q []float32, cur nodeDist, l int, s *linkSearch) nodeDist {
	for changed := true; changed; {
		changed = false
		s.read = append(s.read, readKey(l, cur.id))
		for _, e := range x.neighbors(cur.id, l) {
			if d := x.distance(q, e); d < cur.dist {
				cur, changed = nodeDist{e, d}, true
			}
		}
	}
	return cur
}

// planLinks finds node n's neighbours on each of its layers and the pruned
// lists of neighbours that overflow. It only reads the graph, which only
// the writer changes, so it runs without the lock while searches go on.
func (x *Index) planLinks(n int32, level int) linkPlan {
	plan := linkPlan{links: make([][]int32, level+1)}
	if x.entry < 0 {
		return plan
	}
	q := x.vector(n)
	cur := nodeDist{x.entry, x.distance(q, x.entry)}
	for l := x.maxLevel; l > level; l-- {
		cur = x.greedy(q, cur, l)
	}
	linkable := func(id int32) bool { return linkable(x.state[id]) }
	eps := []nodeDist{cur}
	for l := min(level, x.maxLevel); l >= 0; l-- {
		w, _ := x.searchLayer(q, eps, x.p.EfConstruction, l, linkable, &x.scratch, 0, nil)
		slices.SortFunc(w, byDist)
		chosen := x.selectNeighbors(w, x.p.M)
		plan.links[l] = make([]int32, len(chosen))
		for i, c := range chosen {
			plan.links[l][i] = c.id
			plan.updates = append(plan.updates, x.linkBack(c, n, l))
		}
		eps = slices.Clone(w) // w lives in the scratch the next layer reuses
	}
	return plan
}

// linkBack plans the link from neighbour c back to the new node n on layer
// l: an append while c's list has room, else c's list re-chosen by the
// heuristic among n and those of its neighbours that stay.
func (x *Index) linkBack(c nodeDist, n int32, l int) linkUpdate {
	list := x.neighbors(c.id, l)
	if len(list) < x.maxLinks(l) {
		return linkUpdate{node: c.id, layer: l}
	}
	cv := x.vector(c.id)
	cands := make([]nodeDist, 0, len(list)+1)
	cands = append(cands, nodeDist{n, c.dist})
	for _, e := range list {
		if linkable(x.state[e]) {
			cands = append(cands, nodeDist{e, x.distance(cv, e)})
		}
	}
	slices.SortFunc(cands, byDist)
	chosen := x.selectNeighbors(cands, x.maxLinks(l))
	ids := make([]int32, len(chosen))
	for i, k := range chosen {
		ids[i] = k.id
	}
	return linkUpdate{node: c.id, layer: l, list: ids}
}

// selectNeighbors is the paper's heuristic (algorithm 4, without extending
// or keeping pruned candidates): walking cands nearest first, keep a
// candidate only if it is nearer the base than any candidate kept so far.
// It spreads links over directions instead of spending them all inside one
// cluster.
func (x *Index) selectNeighbors(cands []nodeDist, m int) []nodeDist {
	if len(cands) <= m {
		return cands
	}
	out := make([]nodeDist, 0, m)
	for _, c := range cands {
		if len(out) == m {
			break
		}
		cv := x.vector(c.id)
		good := true
		for _, s := range out {
			if x.distance(cv, s.id) < c.dist {
				good = false
				break
			}
		}
		if good {
			out = append(out, c)
		}
	}
	return out
}

// applyLocked publishes a planned insertion.
func (x *Index) applyLocked(n int32, level int, plan linkPlan) {
	for l, links := range plan.links {
		b := x.block(n, l)
		b[0] = int32(len(links))
		copy(b[1:], links)
	}
	for _, u := range plan.updates {
		b := x.block(u.node, u.layer)
		if u.list == nil {
			b[1+b[0]] = n
			b[0]++
			continue
		}
		b[0] = int32(len(u.list))
		copy(b[1:], u.list)
	}
	if x.entry < 0 || level > x.maxLevel {
		x.entry, x.maxLevel = n, level
	}
}
