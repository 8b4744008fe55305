// Package hnsw is the local store's approximate nearest-neighbour index of
// passage vectors: a graph of passages, searched for the documents whose
// best passage is nearest a query, with batches inserted beside the
// keyword commit and published at once, and a snapshot file format so that
// opening a store need not rebuild the graph.
//
// The store keeps the vectors durable (its vector log) and decides when to
// snapshot; the index counts the puts and deletes it applied (Records), so
// that a snapshot can say which prefix of the caller's log it covers.
package hnsw

import (
	"fmt"
	"math"
	"sync"
)

// Index is a hierarchical navigable small world graph (Malkov and Yashunin,
// "Efficient and robust approximate nearest neighbor search using
// Hierarchical Navigable Small World graphs", 2016) of documents' passage
// vectors, laid out as hnswlib lays it out: nodes are numbered in insertion
// order, their unit vectors sit in one slab and their layer-0 links in fixed
// blocks of another, and neighbours are chosen with the paper's heuristic (a
// candidate is kept only if it is nearer the new node than any neighbour
// kept before it).
//
// Concurrency: searches run in parallel with one writer (Put, Delete, Stage
// until Publish or Abort, and WriteSnapshot are serialised by wmu). Since
// nothing else changes the graph, the writer reads it without a lock and
// takes mu for writing only to publish a node's links, so a search never
// waits longer than that. A document's new passages become visible, and its
// old ones go, in one step.
//
// Deletes leave tombstones: a deleted passage stays in the graph as a
// waypoint, so the graph stays connected, but it is never returned and new
// passages do not link to it; pruning a full neighbour list drops tombstones
// first. Insertion is deterministic (a node's level is a hash of its
// number), so a graph loaded from a snapshot and extended by the log's tail
// equals the graph built from the whole log.
type Index struct {
	wmu sync.Mutex   // one writer at a time
	mu  sync.RWMutex // searches hold it for reading; the writer publishes under it

	p         Params
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

	records       int64 // puts and deletes applied: the caller's log records
	snapshot      Mark  // the log prefix the last snapshot covers
	sinceSnapshot int   // passages put and documents deleted since
}

// Params shape the graph and its searches.
type Params struct {
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

// DefaultParams are what the store uses. With M=16 and efConstruction=200,
// efSearch 192 reaches recall@10 0.963 on GloVe-100 (340,479 words, a hard
// set) and 0.99 on SciFact's passages (see docs/BENCHMARKS.md); M=32 buys
// little recall for 2.5 times the build time. Below 4,096 passages an exact
// scan is as fast as the graph. The store's Options.EfSearch replaces
// EfSearch, a search-time setting that neither the graph nor its snapshot
// depends on.
func DefaultParams() Params {
	return Params{M: 16, EfConstruction: 200, EfSearch: DefaultEfSearch, ExactBelow: 4096}
}

const (
	// DefaultEfSearch is the search candidate list length of
	// DefaultParams: high recall (0.99 and up on SciFact's and the Python
	// docs' passages).
	DefaultEfSearch = 192
	// MaxEfSearch bounds the EfSearch a store accepts. A list that long
	// already visits most of an index small enough for it to matter, and
	// on a larger one searches scan exactly instead (see preferExact).
	MaxEfSearch = 10000
)

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

// New returns an empty index of vectors of dim dimensions.
func New(dim int, p Params) *Index {
	return &Index{
		p:         p,
		dim:       dim,
		m0:        2 * p.M,
		levelMult: 1 / math.Log(float64(p.M)),
		entry:     -1,
		docNums:   make(map[string]int32),
	}
}

// Put replaces the passages of document id with vecs (none deletes them
// but keeps the document known). The vectors are copied and scaled to unit
// length.
func (x *Index) Put(id string, vecs [][]float32) error {
	st, err := x.Stage([]Doc{{ID: id, Vectors: vecs}})
	if err != nil {
		return err
	}
	x.Publish(st)
	return nil
}

// Doc is a document's passage vectors, one put of a batch.
type Doc struct {
	ID      string
	Vectors [][]float32
}

// Batch is a batch of puts that Stage inserted into the graph and that
// wait for Publish or Abort. It holds the writer lock until then.
type Batch struct {
	docs []stagedDoc
}

// stagedDoc is one document of a Batch.
type stagedDoc struct {
	id    string
	d     int32
	known bool    // the document had passages, or was registered, before
	added []int32 // its new nodes, pending
}

// Stage inserts the passages of a batch of puts (of distinct IDs, as a
// store write's entries are after store.LastByID) as Put would, but leaves
// them invisible, and the documents' old passages visible, until Publish
// makes the whole batch visible at once. The graph is the one put by put
// builds: a new node links to pending nodes as it would to live ones, and
// not to retiring ones, as it would not to tombstones. So the store inserts
// a batch while the keyword index commits it, and shows it only once both
// succeeded (Abort drops it otherwise). Until then every other writer
// waits; on error nothing was staged and nothing is held.
func (x *Index) Stage(recs []Doc) (*Batch, error) {
	for _, r := range recs {
		for i, v := range r.Vectors {
			if len(v) != x.dim {
				return nil, fmt.Errorf("passage %d of %q has %d dimensions, the index has %d", i, r.ID, len(v), x.dim)
			}
		}
	}
	x.wmu.Lock()
	st := &Batch{docs: make([]stagedDoc, 0, len(recs))}
	var linked *passageInsert // the next document's first passage, if linked already
	for ri, r := range recs {
		x.records++
		d, known := x.docNums[r.ID]
		x.mu.Lock()
		if !known {
			d = int32(len(x.docIDs))
			x.docIDs = append(x.docIDs, r.ID)
			x.docNodes = append(x.docNodes, nil)
			x.docNums[r.ID] = d
		}
		// The old version stays visible until the new one is in, but the
		// new passages should not spend links on it.
		for _, n := range x.docNodes[d] {
			x.state[n] = nodeRetiring
		}
		x.mu.Unlock()
		added := make([]int32, len(r.Vectors))
		i := 0
		if linked != nil {
			added[0], linked, i = linked.n, nil, 1
		}
		for ; i < len(r.Vectors); i++ {
			cur := x.addNode(d, int32(i), r.Vectors[i])
			// The next passage, this document's or the next one's, is
			// inserted with this one, unless that document has old
			// passages to retire first (which changes what it links to).
			var next *passageInsert
			switch {
			case i+1 < len(r.Vectors):
				next = x.addNode(d, int32(i+1), r.Vectors[i+1])
			case ri+1 < len(recs) && len(recs[ri+1].Vectors) > 0:
				if nd, ok := x.docNums[recs[ri+1].ID]; !ok || len(x.docNodes[nd]) == 0 {
					next = x.addNodeOf(recs[ri+1].ID, 0, recs[ri+1].Vectors[0])
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
		st.docs = append(st.docs, stagedDoc{id: r.ID, d: d, known: known, added: added})
	}
	return st, nil
}

// Publish makes a staged batch visible, retiring the documents' old
// passages, and releases the writer lock.
func (x *Index) Publish(st *Batch) {
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

// Abort drops a staged batch: its nodes become tombstones, the documents'
// old passages stay, documents new to the index are forgotten, and the
// writer lock is released. The tombstones stay in the graph but were never
// logged, so a snapshot taken after this no longer matches the log (it
// holds more nodes than the log's passages) and the store's next open
// rebuilds the index from the log.
func (x *Index) Abort(st *Batch) {
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

// Delete removes document id's passages; an unknown id is a no-op, but
// counts as a record applied.
func (x *Index) Delete(id string) {
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
func (x *Index) retireLocked(d int32) {
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

// Params returns the settings the index builds and searches with.
func (x *Index) Params() Params { return x.p }

// Records returns the number of puts and deletes applied: the records of
// the caller's log that the index reflects, counted from an empty index
// or from the snapshot it was read from.
func (x *Index) Records() int64 {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	return x.records
}

// Stats counts what an index holds.
type Stats struct {
	Docs     int // documents with a searchable passage
	Known    int // documents put and not deleted, with passages or without
	Passages int // searchable passages
	Nodes    int // graph nodes, tombstones included
}

// Stats returns the index's counts.
func (x *Index) Stats() Stats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return Stats{Docs: x.liveDocs, Known: len(x.docNums), Passages: x.live, Nodes: len(x.doc)}
}

// Replace makes x hold y's graph, documents and record count, at once for
// searches: the caller compacted its log and built y from it, without the
// tombstones x keeps. y must not be used afterwards. Replace waits for the
// writer; x's last snapshot no longer describes it, so the next snapshot
// is due.
func (x *Index) Replace(y *Index) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.p, x.dim, x.m0, x.levelMult = y.p, y.dim, y.m0, y.levelMult
	x.vecPages, x.linkPages, x.upper = y.vecPages, y.linkPages, y.upper
	x.doc, x.ord, x.state = y.doc, y.ord, y.state
	x.entry, x.maxLevel = y.entry, y.maxLevel
	x.docIDs, x.docNodes, x.docNums = y.docIDs, y.docNodes, y.docNums
	x.live, x.liveDocs = y.live, y.liveDocs
	x.records = y.records
	x.snapshot, x.sinceSnapshot = Mark{}, len(y.doc)
}

// Passages returns the number of searchable passages of each document the
// index knows (0 for one put without passages), to compare with the log.
func (x *Index) Passages() map[string]int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make(map[string]int, len(x.docNums))
	for id, d := range x.docNums {
		n := 0
		for _, node := range x.docNodes[d] {
			if visible(x.state[node]) {
				n++
			}
		}
		out[id] = n
	}
	return out
}

// block returns node n's list on layer l with its count in front.
func (x *Index) block(n int32, l int) []int32 {
	if l == 0 {
		i := int(n&(pageNodes-1)) * (x.m0 + 1)
		return x.linkPages[n>>pageShift][i : i+x.m0+1]
	}
	i := (l - 1) * (x.p.M + 1)
	return x.upper[n][i : i+x.p.M+1]
}

func (x *Index) neighbors(n int32, l int) []int32 {
	b := x.block(n, l)
	return b[1 : 1+b[0]]
}

func (x *Index) maxLinks(l int) int {
	if l == 0 {
		return x.m0
	}
	return x.p.M
}

func (x *Index) vector(n int32) []float32 {
	i := int(n&(pageNodes-1)) * x.dim
	return x.vecPages[n>>pageShift][i : i+x.dim : i+x.dim]
}

// distance orders nodes by similarity to q: the negated inner product,
// which on unit vectors ranks as the cosine distance does.
func (x *Index) distance(q []float32, n int32) float32 {
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
