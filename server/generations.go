package server

import (
	"strings"

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
	if !g.Vectors.IsZero() {
		provider, name := modelOfID(g.Vectors.Model)
		info.EmbeddingModel = &cariv1.EmbeddingModel{Provider: provider, Name: name, Dimension: int32(g.Vectors.Dim)}
	}
	return info
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
