package embeddings

import (
	"context"
	"path/filepath"
	"testing"
)

// TestSharedLoadsEachModelOnce: Providers opened through one Shared on the
// same model (each with its own cache) load it once, a different model
// loads its own, and a model is closed with its last Provider.
func TestSharedLoadsEachModelOnce(t *testing.T) {
	s := NewShared()
	loads, closes := map[string]int{}, map[string]int{}
	s.load = func(_ context.Context, cfg Config) (*Provider, error) {
		if cfg.CacheDir != "" {
			t.Errorf("model %s loaded with a cache; each Provider keeps its own", cfg.Model)
		}
		loads[cfg.Model]++
		return &Provider{info: ModelInfo{Provider: cfg.Provider, Name: cfg.Model, Dim: 3}, closeModel: func() error { closes[cfg.Model]++; return nil }}, nil
	}
	open := func(model, dir string) *Provider {
		t.Helper()
		p, err := s.NewIfAny(t.Context(), Config{Provider: ProviderStatic, Model: model, CacheDir: dir}, true)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	dir := t.TempDir()
	docs, kb := open("potion", filepath.Join(dir, "docs")), open("potion", filepath.Join(dir, "kb"))
	other := open("minilm", "")
	if loads["potion"] != 1 || loads["minilm"] != 1 {
		t.Fatalf("loads %v, want each model once", loads)
	}
	if docs.cache == nil || kb.cache == nil || docs.cache == kb.cache {
		t.Errorf("the collections' caches are not their own")
	}
	if err := docs.Close(); err != nil {
		t.Fatal(err)
	}
	if err := docs.Close(); err != nil { // again: releases nothing more
		t.Fatal(err)
	}
	if closes["potion"] != 0 {
		t.Errorf("potion closed while kb uses it")
	}
	if err := kb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if closes["potion"] != 1 || closes["minilm"] != 1 {
		t.Errorf("closes %v, want each model once, with its last user", closes)
	}
	open("potion", "").Close()
	if loads["potion"] != 2 {
		t.Errorf("potion loaded %d times, want again after its last user closed it", loads["potion"])
	}
}
