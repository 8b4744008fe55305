package server

import (
	"context"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/store"
)

// generationStates maps a store's generation states to the API's.
var generationStates = map[store.GenerationState]cariv1.GenerationState{
	store.GenerationServing:  cariv1.GenerationState_GENERATION_STATE_SERVING,
	store.GenerationBuilding: cariv1.GenerationState_GENERATION_STATE_BUILDING,
	store.GenerationRetired:  cariv1.GenerationState_GENERATION_STATE_RETIRED,
}

// generationInfo is a store's generation as GetStats reports it.
func generationInfo(g store.Generation) *cariv1.GenerationInfo {
	info := &cariv1.GenerationInfo{Name: g.Name, State: generationStates[g.State], CreateTime: timestamppb.New(g.Created),
		Documents: g.Documents, Chunks: g.Chunks, SizeBytes: proto.Int64(g.SizeBytes)}
	info.EmbeddingModel = embeddingModel(g.Vectors)
	return info
}

// embeddingModel is a vector space as the API reports a model, in GetStats
// and in search responses alike: nil when there are no vectors.
func embeddingModel(v store.VectorSpace) *cariv1.EmbeddingModel {
	if v.IsZero() {
		return nil
	}
	provider, name := modelOfID(v.Model)
	return &cariv1.EmbeddingModel{Provider: provider, Name: name, Dimension: int32(v.Dim), Id: v.Model}
}

// modelOfID splits a recorded model ID, "provider/name@version", into the
// API's provider ("openai", or "local" for in-process models) and name.
func modelOfID(id string) (provider, name string) {
	provider, name, _ = strings.Cut(id, "/")
	if i := strings.LastIndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	if provider != "openai" {
		provider = "local"
	}
	return provider, name
}

// servingModel remembers the serving generation's vector space, so that a
// search response names its model as GetStats does, dimension included,
// without asking the store on every search.
type servingModel struct {
	store   IndexStore
	mu      sync.Mutex
	space   store.VectorSpace
	checked time.Time
}

// servingModelRecheck is how often a search whose model the store has not
// yet recorded (an empty index) asks the store again.
const servingModelRecheck = 10 * time.Second

// describe is the model with ID id as responses report it; nil when id is
// empty (no vector retrieval ran).
func (m *servingModel) describe(ctx context.Context, id string) *cariv1.EmbeddingModel {
	if id == "" {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.space.Model != id && time.Since(m.checked) >= servingModelRecheck {
		m.checked = time.Now()
		if gens, err := m.store.Generations(ctx); err == nil {
			m.learn(gens)
		}
	}
	space := store.VectorSpace{Model: id}
	if m.space.Model == id {
		space.Dim = m.space.Dim
	}
	return embeddingModel(space)
}

// learn records the serving generation's vector space from a store's list
// of generations; m.mu is held.
func (m *servingModel) learn(gens []store.Generation) {
	for _, g := range gens {
		if g.State == store.GenerationServing && !g.Vectors.IsZero() {
			m.space = g.Vectors
		}
	}
}
