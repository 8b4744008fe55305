package local

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/viterin/vek/vek32"
)

// vectorIndex is what the store needs of an index of passage vectors. An
// implementation is safe for concurrent searches and one writer.
type vectorIndex interface {
	// put replaces the passages of document id.
	put(id string, vecs [][]float32) error
	delete(id string)
	// search returns the limit documents whose best passage is most
	// similar to q, each with that passage, best first, among the
	// documents f allows.
	search(q []float32, limit int, f *docFilter) ([]passageHit, error)
}

// docFilter restricts a vector search to some documents by ID: those in ids,
// or, when exclude is set, all but those. A nil *docFilter allows every
// document. Keeping the set (rather than only a predicate) lets an index
// see how selective a filter is and search a small allowed set exactly.
type docFilter struct {
	ids     map[string]struct{}
	exclude bool
}

func (f *docFilter) allows(id string) bool {
	if f == nil {
		return true
	}
	_, in := f.ids[id]
	return in != f.exclude
}

// flatIndex holds every passage vector in one slab and searches them
// exactly. It is the reference the approximate index (hnswIndex, which the
// store uses, and which scans exactly by itself while small) is measured
// against in tests and benchmarks. Vectors are normalised on insert, so the
// dot product is the cosine similarity.
type flatIndex struct {
	mu    sync.RWMutex
	dim   int
	slab  []float32 // len(owner)*dim
	owner []string  // document ID of each slot; "" once deleted
	ord   []int32   // passage ordinal of each slot
	byDoc map[string][]int32
	dead  int
}

func newFlatIndex(dim int) *flatIndex {
	return &flatIndex{dim: dim, byDoc: make(map[string][]int32)}
}

// put replaces the passages of document id.
func (x *flatIndex) put(id string, vecs [][]float32) error {
	for i, v := range vecs {
		if len(v) != x.dim {
			return fmt.Errorf("passage %d of %q has %d dimensions, the index has %d", i, id, len(v), x.dim)
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.deleteLocked(id)
	slots := make([]int32, len(vecs))
	for i, v := range vecs {
		slots[i] = int32(len(x.owner))
		x.slab = append(x.slab, v...)
		normalize(x.slab[len(x.slab)-x.dim:])
		x.owner = append(x.owner, id)
		x.ord = append(x.ord, int32(i))
	}
	x.byDoc[id] = slots
	return nil
}

func (x *flatIndex) delete(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.deleteLocked(id)
}

func (x *flatIndex) deleteLocked(id string) {
	for _, s := range x.byDoc[id] {
		x.owner[s] = ""
		x.dead++
	}
	delete(x.byDoc, id)
	if x.dead > 1024 && x.dead > len(x.owner)/4 {
		x.compactLocked()
	}
}

// compactLocked drops deleted slots so the slab does not grow without bound.
func (x *flatIndex) compactLocked() {
	slab, owner, ord := x.slab[:0], x.owner[:0], x.ord[:0]
	byDoc := make(map[string][]int32, len(x.byDoc))
	for s, id := range x.owner {
		if id == "" {
			continue
		}
		n := int32(len(owner))
		slab = append(slab, x.slab[s*x.dim:(s+1)*x.dim]...)
		owner = append(owner, id)
		ord = append(ord, x.ord[s])
		byDoc[id] = append(byDoc[id], n)
	}
	x.slab, x.owner, x.ord, x.byDoc, x.dead = slab, owner, ord, byDoc, 0
}

// passageHit is a document's best passage for a query.
type passageHit struct {
	id      string
	ordinal int
	score   float64
}

// search returns the limit documents whose best passage is most similar to
// q, each with that passage, best first; f filters documents by ID before
// they count.
func (x *flatIndex) search(q []float32, limit int, f *docFilter) ([]passageHit, error) {
	if len(q) != x.dim {
		return nil, fmt.Errorf("query vector has %d dimensions, the index has %d", len(q), x.dim)
	}
	qn := slices.Clone(q)
	normalize(qn)
	x.mu.RLock()
	defer x.mu.RUnlock()
	best := make(map[string]passageHit)
	for s, id := range x.owner {
		if id == "" {
			continue
		}
		sc := float64(dot(qn, x.slab[s*x.dim:(s+1)*x.dim]))
		if h, ok := best[id]; ok && h.score >= sc {
			continue
		}
		if f != nil {
			if _, seen := best[id]; !seen && !f.allows(id) {
				continue
			}
		}
		best[id] = passageHit{id: id, ordinal: int(x.ord[s]), score: sc}
	}
	hits := make([]passageHit, 0, len(best))
	for _, h := range best {
		hits = append(hits, h)
	}
	return bestPassages(hits, limit), nil
}

// bestPassages sorts hits best first (ties by ID, so results are deterministic)
// and keeps limit of them.
func bestPassages(hits []passageHit, limit int) []passageHit {
	slices.SortFunc(hits, func(a, b passageHit) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return hits[:min(limit, len(hits))]
}

// dot is the inner product of two vectors of equal length, with AVX2 and
// FMA where the processor has them (four times faster than a Go loop on 100
// dimensions, and the inner loop of every vector search).
func dot(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	return vek32.Dot(a, b)
}

// Normalize scales v to unit length in place, as the store does to every
// vector it holds; a zero vector stays zero.
func Normalize(v []float32) { normalize(v) }

func normalize(v []float32) {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range v {
		v[i] *= inv
	}
}
