package local

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// flatIndex holds every passage vector in one slab and searches them
// exactly. It is the reference the approximate index is measured against,
// and the index itself while the collection is small. Vectors are
// normalised on insert, so the dot product is the cosine similarity.
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
// q, each with that passage, best first; allow, when not nil, filters
// documents by ID before they count.
func (x *flatIndex) search(q []float32, limit int, allow func(id string) bool) ([]passageHit, error) {
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
		if allow != nil {
			if _, seen := best[id]; !seen && !allow(id) {
				continue
			}
		}
		best[id] = passageHit{id: id, ordinal: int(x.ord[s]), score: sc}
	}
	hits := make([]passageHit, 0, len(best))
	for _, h := range best {
		hits = append(hits, h)
	}
	slices.SortFunc(hits, func(a, b passageHit) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return hits[:min(limit, len(hits))], nil
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

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
