package local

import (
	"fmt"
	"math"
	"slices"
	"sync"
)

// hnswIndex is the store's approximate nearest-neighbour index of passage
// vectors: a hierarchical navigable small world graph (Malkov and Yashunin,
// "Efficient and robust approximate nearest neighbor search using
// Hierarchical Navigable Small World graphs", 2016), laid out as hnswlib lays
// it out: nodes are numbered in insertion order, their unit vectors sit in
// one slab and their layer-0 links in fixed blocks of another, and
// neighbours are chosen with the paper's heuristic (a candidate is kept only
// if it is nearer the new node than any neighbour kept before it).
//
// Concurrency: searches run in parallel with one writer (put, delete and
// writeSnapshot are serialised by wmu). Since nothing else changes the
// graph, the writer reads it without a lock and takes mu for writing only to
// publish a node's links, so a search never waits longer than that. A
// document's new passages become visible, and its old ones go, in one step.
//
// Deletes leave tombstones: a deleted passage stays in the graph as a
// waypoint, so the graph stays connected, but it is never returned and new
// passages do not link to it; pruning a full neighbour list drops tombstones
// first. Insertion is deterministic (a node's level is a hash of its
// number), so a graph loaded from a snapshot and extended by the vector log's
// tail equals the graph built from the whole log.
type hnswIndex struct {
	wmu sync.Mutex   // one writer at a time
	mu  sync.RWMutex // searches hold it for reading; the writer publishes under it

	p         hnswParams
	dim, m0   int
	levelMult float64

	// Per node, by node number. Vectors and layer-0 links, most of the
	// memory, are kept in pages of pageNodes nodes, so that adding a node
	// never copies those of the others (which on a large index would stall
	// searches while it happens) and little is allocated ahead.
	vecPages  [][]float32 // dim values per node, unit length
	linkPages [][]int32   // m0+1 per node: neighbour count, then neighbours
	upper     [][]int32   // layers 1..level, M+1 values each (count, neighbours)
	doc       []int32     // document number
	ord       []int32     // passage ordinal within the document
	state     []uint8     // nodePending, nodeLive, nodeRetiring or nodeDead

	entry    int32 // entry node, -1 while the graph is empty
	maxLevel int

	// Per document, by document number.
	docIDs   []string // "" once deleted
	docNodes [][]int32
	docNums  map[string]int32
	live     int // live nodes
	liveDocs int // documents with at least one live node

	visits  sync.Pool     // *searchScratch for searches
	scratch searchScratch // the writer's
	ahead   searchScratch // the writer's, for the search it runs ahead (stage)
	// Searches run ahead, and those kept.
	aheadRun, aheadKept int

	records       int64        // puts and deletes applied: vector log records
	snapshot      snapshotMark // the log prefix the last snapshot covers
	sinceSnapshot int          // passages put and documents deleted since
}

// hnswParams shape the graph and its searches.
type hnswParams struct {
	// M is the number of links a node keeps on layers above 0; layer 0
	// keeps 2*M.
	M int
	// EfConstruction is the candidate list length when inserting.
	EfConstruction int
	// EfSearch is the least candidate list length when searching; a search
	// for more documents uses that many.
	EfSearch int
	// ExactBelow is the number of passages up to which a search (or the
	// part of the index a filter allows) is scanned exactly instead. A
	// negative value always walks the graph first (for tests).
	ExactBelow int
}

// defaultHNSW is what the store uses. With M=16 and efConstruction=200,
// efSearch 192 reaches recall@10 0.963 on GloVe-100 (340,479 words, a hard
// set) and 0.99 on SciFact's passages (see docs/BENCHMARKS.md); M=32 buys
// little recall for 2.5 times the build time. Below 4,096 passages an exact
// scan is as fast as the graph. A store's Options.EfSearch replaces
// EfSearch, a search-time setting that neither the graph nor its snapshot
// depends on.
var defaultHNSW = hnswParams{M: 16, EfConstruction: 200, EfSearch: DefaultEfSearch, ExactBelow: 4096}

const (
	// DefaultEfSearch is the vector search candidate list length a store
	// uses unless Options.EfSearch says otherwise: high recall (0.99 and
	// up on SciFact's and the Python docs' passages).
	DefaultEfSearch = 192
	// MaxEfSearch bounds Options.EfSearch. A list that long already visits
	// most of an index small enough for it to matter, and on a larger one
	// searches scan exactly instead (see preferExact).
	MaxEfSearch = 10000
)

// CheckEfSearch checks an Options.EfSearch value (0 takes the default); the
// error completes a sentence naming the option.
func CheckEfSearch(ef int) error {
	if ef < 0 || ef > MaxEfSearch {
		return fmt.Errorf("must be between 1 and %d (0 takes the default, %d), got %d", MaxEfSearch, DefaultEfSearch, ef)
	}
	return nil
}

const (
	nodePending  = iota // inserted, not yet visible to searches
	nodeLive            // visible, and new nodes link to it
	nodeRetiring        // still visible, but being replaced: new nodes do not link to it
	nodeDead            // a tombstone: only a waypoint

	maxHNSWLevel = 16
	levelSeed    = 0x9e3779b97f4a7c15

	pageShift = 12
	pageNodes = 1 << pageShift
)

// visible reports whether searches may return a node in this state.
func visible(state uint8) bool { return state == nodeLive || state == nodeRetiring }

// linkable reports whether new nodes may link to a node in this state.
func linkable(state uint8) bool { return state == nodePending || state == nodeLive }

func newHNSWIndex(dim int, p hnswParams) *hnswIndex {
	return &hnswIndex{
		p:         p,
		dim:       dim,
		m0:        2 * p.M,
		levelMult: 1 / math.Log(float64(p.M)),
		entry:     -1,
		docNums:   make(map[string]int32),
	}
}

// put replaces the passages of document id.
func (x *hnswIndex) put(id string, vecs [][]float32) error {
	st, err := x.stage([]vectorRecord{{op: opPut, id: id, vectors: vecs}})
	if err != nil {
		return err
	}
	x.publish(st)
	return nil
}

// stagedPut is a batch of puts that stage inserted into the graph and that
// wait for publish or abort. It holds the writer lock until then.
type stagedPut struct {
	docs []stagedDoc
}

// stagedDoc is one document of a stagedPut.
type stagedDoc struct {
	id    string
	d     int32
	known bool    // the document had passages, or was registered, before
	added []int32 // its new nodes, pending
}

// stage inserts the passages of a batch of puts (records with distinct IDs,
// as a write's entries are after store.LastByID) as put would, but leaves
// them invisible, and the documents' old passages visible, until publish
// makes the whole batch visible at once. The graph is the one put by put
// builds: a new node links to pending nodes as it would to live ones, and
// not to retiring ones, as it would not to tombstones. So the store inserts
// a batch while the keyword index commits it, and shows it only once both
// succeeded (abort drops it otherwise).
func (x *hnswIndex) stage(recs []vectorRecord) (*stagedPut, error) {
	for _, r := range recs {
		for i, v := range r.vectors {
			if len(v) != x.dim {
				return nil, fmt.Errorf("passage %d of %q has %d dimensions, the index has %d", i, r.id, len(v), x.dim)
			}
		}
	}
	x.wmu.Lock()
	st := &stagedPut{docs: make([]stagedDoc, 0, len(recs))}
	var linked *passageInsert // the next document's first passage, if linked already
	for ri, r := range recs {
		x.records++
		d, known := x.docNums[r.id]
		x.mu.Lock()
		if !known {
			d = int32(len(x.docIDs))
			x.docIDs = append(x.docIDs, r.id)
			x.docNodes = append(x.docNodes, nil)
			x.docNums[r.id] = d
		}
		// The old version stays visible until the new one is in, but the
		// new passages should not spend links on it.
		for _, n := range x.docNodes[d] {
			x.state[n] = nodeRetiring
		}
		x.mu.Unlock()
		added := make([]int32, len(r.vectors))
		i := 0
		if linked != nil {
			added[0], linked, i = linked.n, nil, 1
		}
		for ; i < len(r.vectors); i++ {
			cur := x.addNode(d, int32(i), r.vectors[i])
			// The next passage, this document's or the next one's, is
			// inserted with this one, unless that document has old
			// passages to retire first (which changes what it links to).
			var next *passageInsert
			switch {
			case i+1 < len(r.vectors):
				next = x.addNode(d, int32(i+1), r.vectors[i+1])
			case ri+1 < len(recs) && len(recs[ri+1].vectors) > 0:
				if nd, ok := x.docNums[recs[ri+1].id]; !ok || len(x.docNodes[nd]) == 0 {
					next = x.addNodeOf(recs[ri+1].id, 0, recs[ri+1].vectors[0])
					linked = next
				}
			}
			x.insertPair(cur, next)
			added[i] = cur.n
			if next != nil && next != linked {
				i++
				added[i] = next.n
			}
		}
		st.docs = append(st.docs, stagedDoc{id: r.id, d: d, known: known, added: added})
	}
	return st, nil
}

// publish makes a staged batch visible, retiring the documents' old
// passages, and releases the writer lock.
func (x *hnswIndex) publish(st *stagedPut) {
	defer x.wmu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, sd := range st.docs {
		x.retireLocked(sd.d)
		for _, n := range sd.added {
			x.state[n] = nodeLive
		}
		x.docNodes[sd.d] = sd.added
		x.sinceSnapshot += len(sd.added)
		x.live += len(sd.added)
		if len(sd.added) > 0 {
			x.liveDocs++
		}
	}
}

// abort drops a staged batch: its nodes become tombstones, the documents'
// old passages stay, documents new to the index are forgotten, and the
// writer lock is released. The tombstones stay in the graph but not in the
// vector log, so a snapshot taken after this no longer matches the log and
// the next open rebuilds the index from the log.
func (x *hnswIndex) abort(st *stagedPut) {
	defer x.wmu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, sd := range st.docs {
		for _, n := range sd.added {
			x.state[n] = nodeDead
		}
		for _, n := range x.docNodes[sd.d] {
			x.state[n] = nodeLive
		}
		if !sd.known {
			x.docIDs[sd.d] = ""
			delete(x.docNums, sd.id)
		}
	}
	x.records -= int64(len(st.docs))
}

func (x *hnswIndex) delete(id string) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	x.records++
	d, ok := x.docNums[id]
	if !ok {
		return
	}
	x.mu.Lock()
	x.retireLocked(d)
	x.sinceSnapshot++
	x.docIDs[d] = ""
	delete(x.docNums, id)
	x.mu.Unlock()
}

// retireLocked turns document d's passages into tombstones.
func (x *hnswIndex) retireLocked(d int32) {
	old := x.docNodes[d]
	for _, n := range old {
		x.state[n] = nodeDead
	}
	x.live -= len(old)
	if len(old) > 0 {
		x.liveDocs--
	}
	x.docNodes[d] = nil
}

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
func (x *hnswIndex) addNode(d, ord int32, v []float32) *passageInsert {
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

// addNodeOf is addNode for the document stage registers next, numbered as
// it will be.
func (x *hnswIndex) addNodeOf(id string, ord int32, v []float32) *passageInsert {
	d, ok := x.docNums[id]
	if !ok {
		d = int32(len(x.docIDs)) // the number stage gives it next
	}
	return x.addNode(d, ord, v)
}

// insert adds a pending node for passage ord of document d and links it
// into the graph. It returns the node's number.
func (x *hnswIndex) insert(d, ord int32, v []float32) int32 {
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
func (x *hnswIndex) insertPair(cur, next *passageInsert) {
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
func (x *hnswIndex) appendNodeLocked(n, d, ord int32, v []float32, level int) {
	copy(x.vector(n), v)
	normalize(x.vector(n))
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
func (x *hnswIndex) searchLinks(n int32, level int, scratch *searchScratch) *linkSearch {
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
func (x *hnswIndex) finishLinks(n int32, level int, s *linkSearch) linkPlan {
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
func (x *hnswIndex) greedyRecorded(q []float32, cur nodeDist, l int, s *linkSearch) nodeDist {
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
func (x *hnswIndex) planLinks(n int32, level int) linkPlan {
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
func (x *hnswIndex) linkBack(c nodeDist, n int32, l int) linkUpdate {
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
func (x *hnswIndex) selectNeighbors(cands []nodeDist, m int) []nodeDist {
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
func (x *hnswIndex) applyLocked(n int32, level int, plan linkPlan) {
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

// block returns node n's list on layer l with its count in front.
func (x *hnswIndex) block(n int32, l int) []int32 {
	if l == 0 {
		i := int(n&(pageNodes-1)) * (x.m0 + 1)
		return x.linkPages[n>>pageShift][i : i+x.m0+1]
	}
	i := (l - 1) * (x.p.M + 1)
	return x.upper[n][i : i+x.p.M+1]
}

func (x *hnswIndex) neighbors(n int32, l int) []int32 {
	b := x.block(n, l)
	return b[1 : 1+b[0]]
}

func (x *hnswIndex) maxLinks(l int) int {
	if l == 0 {
		return x.m0
	}
	return x.p.M
}

func (x *hnswIndex) vector(n int32) []float32 {
	i := int(n&(pageNodes-1)) * x.dim
	return x.vecPages[n>>pageShift][i : i+x.dim : i+x.dim]
}

// distance orders nodes by similarity to q: the negated inner product,
// which on unit vectors ranks as the cosine distance does.
func (x *hnswIndex) distance(q []float32, n int32) float32 {
	return -dot(q, x.vector(n))
}

// nodeLevel draws a node's top layer from the exponential distribution the
// paper prescribes, with a hash of the node's number standing in for a
// random source so that rebuilding gives the same graph.
func nodeLevel(n int32, mult float64) int {
	h := uint64(n) + levelSeed
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9
	h = (h ^ (h >> 27)) * 0x94d049bb133111eb
	h ^= h >> 31
	u := (float64(h>>11) + 1) / (1 << 53) // in (0, 1]
	return min(int(-math.Log(u)*mult), maxHNSWLevel)
}
