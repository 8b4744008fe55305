package qdrant

import (
	"context"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/cari-search/cari/store/qdrant/qdranttest"
)

// TestTimeStampedFirstGeneration: a deployment whose alias already names a
// time-stamped generation with no recorded creation time, as every first
// generation was before they had a fixed name, opens it unchanged and
// dates it by its name.
func TestTimeStampedFirstGeneration(t *testing.T) {
	_, addr := qdranttest.Start(t, "")
	ctx := context.Background()
	setup, err := Open(ctx, Options{Addr: addr, Alias: "setup"})
	if err != nil {
		t.Fatal(err)
	}
	const legacy = DefaultAlias + "-20240102t030405.000006"
	req := setup.collectionSchema(legacy)
	delete(req.Metadata, metaCreated)
	if err := setup.client.CreateCollection(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := setup.client.UpdateAliases(ctx, []*qdrant.AliasOperations{qdrant.NewAliasCreate(DefaultAlias, legacy)}); err != nil {
		t.Fatal(err)
	}
	setup.Close()

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
