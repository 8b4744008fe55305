package collections

import (
	"testing"

	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
	"github.com/cari-search/cari/store/qdrant"
	"github.com/cari-search/cari/store/qdrant/qdranttest"
	"github.com/cari-search/cari/store/storetest"
)

// TestStoreContractPerCollection runs the store contract on a collection
// that is not default, in a data directory whose default collection holds
// documents of its own: a collection's store answers as a store alone does.
// On Qdrant (the stand-in) the default's documents are in the same Qdrant,
// under the alias the named collection's must not be confused with.
func TestStoreContractPerCollection(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole store contract again, several seconds; store/local and store/qdrant run it under -short")
	}
	space := store.VectorSpace{Model: storetest.Model, Dim: storetest.Dim}
	t.Run("local", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			cat := namedBesideDefault(t, keywordOnly(t.TempDir(), catalog.Default))
			s, err := local.Open(cat.Dir("contract"), local.Options{Vectors: space})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
	t.Run("qdrant", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			_, addr := qdranttest.Start(t, "")
			namedBesideDefault(t, onQdrant(keywordOnly(t.TempDir(), catalog.Default), addr))
			s, err := qdrant.Open(t.Context(), qdrant.Options{Addr: addr, Collection: "contract", Vectors: space})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}

// namedBesideDefault indexes documents into the default collection def
// names, creates the collection "contract" beside it and returns the open
// catalog, closed when t ends.
func namedBesideDefault(t *testing.T, def Options) *catalog.Catalog {
	t.Helper()
	index(t, def, "testdata/other.jsonl")
	cat, err := openCatalog(def.DataDir, def.catalogOptions(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	if _, err := cat.Create("contract", catalog.Settings{}); err != nil {
		t.Fatal(err)
	}
	return cat
}
