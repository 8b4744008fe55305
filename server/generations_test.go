package server

import (
	"testing"
	"time"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/store"
)

func TestGenerationInfo(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		gen            store.Generation
		state          cariv1.GenerationState
		provider, name string
	}{
		{store.Generation{Name: "g1", State: store.GenerationServing, Vectors: store.VectorSpace{Model: "static/glove-6b-100d@abc", Dim: 100}},
			cariv1.GenerationState_GENERATION_STATE_SERVING, "local", "glove-6b-100d"},
		{store.Generation{Name: "g2", State: store.GenerationBuilding, Vectors: store.VectorSpace{Model: "openai/Qwen/Qwen3-Embedding-0.6B@v1", Dim: 1024}},
			cariv1.GenerationState_GENERATION_STATE_BUILDING, "openai", "Qwen/Qwen3-Embedding-0.6B"},
		{store.Generation{Name: "g3", State: store.GenerationRetired}, cariv1.GenerationState_GENERATION_STATE_RETIRED, "", ""},
	} {
		c.gen.Created, c.gen.Documents, c.gen.SizeBytes = created, 7, 99
		info := generationInfo(c.gen)
		if info.GetName() != c.gen.Name || info.GetState() != c.state || !info.GetCreateTime().AsTime().Equal(created) ||
			info.GetDocuments() != 7 || info.GetSizeBytes() != 99 {
			t.Errorf("%s: %v", c.gen.Name, info)
		}
		m := info.GetEmbeddingModel()
		if m.GetProvider() != c.provider || m.GetName() != c.name || (c.name != "" && int(m.GetDimension()) != c.gen.Vectors.Dim) {
			t.Errorf("%s: embedding model %v, want %s %s", c.gen.Name, m, c.provider, c.name)
		}
	}
}
