package qdrant

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/cari-search/cari/analysis/category"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/qdrant/qdranttest"
)

// legacyCollection serves a new double whose DefaultAlias names collection
// name, created as this build would but for drop, the metadata keys an
// older build did not record, and returns the double's address.
func legacyCollection(t *testing.T, name string, drop ...string) string {
	t.Helper()
	_, addr := qdranttest.Start(t, "")
	ctx := context.Background()
	setup, err := Open(ctx, Options{Addr: addr, Alias: "setup"})
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	req := setup.collectionSchema(name)
	for _, k := range drop {
		delete(req.Metadata, k)
	}
	if err := setup.client.CreateCollection(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := setup.client.UpdateAliases(ctx, []*qdrant.AliasOperations{qdrant.NewAliasCreate(DefaultAlias, name)}); err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestCollectionWithoutIndonesianBM25: a collection made before the
// Indonesian field had its own BM25 parameters records only the global
// ones, which weighted its Indonesian documents too. It opens with those
// as the Indonesian parameters (the default again since issue 21), and the
// refusal under others names them, not the zeros of the missing keys.
func TestCollectionWithoutIndonesianBM25(t *testing.T) {
	addr := legacyCollection(t, "legacy", metaIDK1, metaIDB)
	ctx := context.Background()
	_, err := Open(ctx, Options{Addr: addr, IndonesianBM25: store.BM25{K1: 1.5, B: 1}})
	want := "built with BM25 k1=1.2 b=0.75 for the Indonesian field, this process uses k1=1.5 b=1"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Open with other Indonesian parameters: %v, want an error saying %q", err, want)
	}
	s, err := Open(ctx, Options{Addr: addr})
	if err != nil {
		t.Fatalf("Open with the default parameters, which are the global ones the collection was weighted with: %v", err)
	}
	s.Close()
}

// TestTimeStampedFirstGeneration: a deployment whose alias already names a
// time-stamped generation with no recorded creation time, as every first
// generation was before they had a fixed name, opens it unchanged and
// dates it by its name.
func TestTimeStampedFirstGeneration(t *testing.T) {
	const legacy = DefaultAlias + "-20240102t030405.000006"
	addr := legacyCollection(t, legacy, metaCreated)
	ctx := context.Background()
	s, err := Open(ctx, Options{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Collection() != legacy {
		t.Errorf("opened %s, want the aliased %s", s.Collection(), legacy)
	}
	gens, err := s.Generations(ctx)
	want := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)
	if err != nil || len(gens) != 1 || gens[0].Name != legacy || !gens[0].Created.Equal(want) {
		t.Errorf("generations %+v (%v), want %s created %v", gens, err, legacy, want)
	}
}

// TestCollectionWithoutCategories: a collection made before points carried
// their category refuses the category filter, which would find nothing
// there, and a point without one gets it decided on read.
func TestCollectionWithoutCategories(t *testing.T) {
	addr := legacyCollection(t, "legacy", metaCategories)
	ctx := context.Background()
	s, err := Open(ctx, Options{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := store.Filter{Categories: []string{category.GitHub}}
	if _, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: "search", Filter: f, Limit: 10}); !errors.Is(err, store.ErrNoCategories) {
		t.Errorf("category filter on the old collection: %v, want ErrNoCategories", err)
	}
	if _, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: "search", Limit: 10}); err != nil {
		t.Errorf("unfiltered search on the old collection: %v", err)
	}

	old := map[string]*qdrant.Value{fieldID: qdrant.NewValueString("r"), fieldURL: qdrant.NewValueString("https://github.com/cari-search/cari")}
	if d, err := document(old); err != nil || d.Category != category.GitHub {
		t.Errorf("point without a category: %q, %v; want github, decided on read", d.Category, err)
	}
	old[fieldCategory] = qdrant.NewValueString("")
	if d, err := document(old); err != nil || d.Category != "" {
		t.Errorf("point stored with no category: %q, %v; want none", d.Category, err)
	}
}
