package qdrant

import (
	"context"
	"strings"
	"testing"

	"github.com/qdrant/go-client/qdrant"

	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/qdrant/qdranttest"
)

// TestCollectionWithoutIndonesianBM25: a collection made before the
// Indonesian field had its own BM25 parameters records only the global
// ones, which weighted its Indonesian documents too. It opens with those
// as the Indonesian parameters, and the refusal under others names them,
// not the zeros of the missing keys.
func TestCollectionWithoutIndonesianBM25(t *testing.T) {
	_, addr := qdranttest.Start(t, "")
	ctx := context.Background()
	setup, err := Open(ctx, Options{Addr: addr, Alias: "setup"})
	if err != nil {
		t.Fatal(err)
	}
	req := setup.collectionSchema("legacy")
	delete(req.Metadata, metaIDK1)
	delete(req.Metadata, metaIDB)
	if err := setup.client.CreateCollection(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := setup.client.UpdateAliases(ctx, []*qdrant.AliasOperations{qdrant.NewAliasCreate(DefaultAlias, "legacy")}); err != nil {
		t.Fatal(err)
	}
	setup.Close()

	_, err = Open(ctx, Options{Addr: addr})
	want := "built with BM25 k1=1.2 b=0.75 for the Indonesian field, this process uses k1=1.5 b=1"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Open with the default Indonesian parameters: %v, want an error saying %q", err, want)
	}
	s, err := Open(ctx, Options{Addr: addr, IndonesianBM25: store.DefaultBM25})
	if err != nil {
		t.Fatalf("Open with the global parameters for the Indonesian field, as the collection was weighted: %v", err)
	}
	s.Close()
}
