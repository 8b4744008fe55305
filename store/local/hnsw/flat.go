package hnsw

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/viterin/vek/vek32"
)

// Filter restricts a search to some documents by ID: those in IDs, or,
// when Exclude is set, all but those. A nil *Filter allows every document.
// Keeping the set (rather than only a predicate) lets the index see how
// selective a filter is and search a small allowed set exactly.
type Filter struct {
	IDs     map[string]struct{}
	Exclude bool
}

// allows reports whether f lets document id through.
func (f *Filter) allows(id string) bool {
	if f == nil {
		return true
	}
	_, in := f.IDs[id]
	return in != f.Exclude
}

// Flat holds every passage vector in one slab and searches them exactly.
// It is the reference the graph (Index, which the store uses, and which
// scans exactly by itself while small) is measured against in tests and
// benchmarks. Vectors are normalised on insert, so the dot product is the
// cosine similarity. It is safe for concurrent use.
type Flat struct {
	mu    sync.RWMutex
	dim   int
	slab  []float32 // len(owner)*dim
	owner []string  // document ID of each slot; "" once deleted
	ord   []int32   // passage ordinal of each slot
	byDoc map[string][]int32
	dead  int
}

// NewFlat returns an empty exact index of vectors of dim dimensions.
func NewFlat(dim int) *Flat {
	return &Flat{dim: dim, byDoc: make(map[string][]int32)}
}

// Put replaces the passages of document id.
func (x *Flat) Put(id string, vecs [][]float32) error {
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
		Normalize(x.slab[len(x.slab)-x.dim:])
		x.owner = append(x.owner, id)
		x.ord = append(x.ord, int32(i))
	}
	x.byDoc[id] = slots
	return nil
}

// Delete removes document id's passages.
func (x *Flat) Delete(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.deleteLocked(id)
}

func (x *Flat) deleteLocked(id string) {
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
func (x *Flat) compactLocked() {
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

// Hit is a document's best passage for a query: its ordinal among the
// document's passages, and its cosine similarity to the query.
type Hit struct {
	ID      string
	Passage int
	Score   float64
}

// Search returns the limit documents whose best passage is most similar to
// q, each with that passage, best first; f filters documents by ID before
// they count.
func (x *Flat) Search(q []float32, limit int, f *Filter) ([]Hit, error) {
	if len(q) != x.dim {
		return nil, fmt.Errorf("query vector has %d dimensions, the index has %d", len(q), x.dim)
	}
	qn := slices.Clone(q)
	Normalize(qn)
	x.mu.RLock()
	defer x.mu.RUnlock()
	best := make(map[string]Hit)
	for s, id := range x.owner {
		if id == "" {
			continue
		}
		sc := float64(dot(qn, x.slab[s*x.dim:(s+1)*x.dim]))
		if h, ok := best[id]; ok && h.Score >= sc {
			continue
		}
		if f != nil {
			if _, seen := best[id]; !seen && !f.allows(id) {
				continue
			}
		}
		best[id] = Hit{ID: id, Passage: int(x.ord[s]), Score: sc}
	}
	hits := make([]Hit, 0, len(best))
	for _, h := range best {
		hits = append(hits, h)
	}
	return bestPassages(hits, limit), nil
}

// bestPassages sorts hits best first (ties by ID, so results are deterministic)
// and keeps limit of them.
func bestPassages(hits []Hit, limit int) []Hit {
	slices.SortFunc(hits, func(a, b Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
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

// Normalize scales v to unit length in place, as the index does to every
// vector it holds; a zero vector stays zero.
func Normalize(v []float32) {
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
