package collections

import (
	"testing"

	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
	"github.com/cari-search/cari/store/storetest"
)

// TestStoreContractPerCollection runs the store contract on a collection
// that is not default, in a data directory whose default collection holds
// documents of its own: a collection's store answers as a store alone does.
func TestStoreContractPerCollection(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole store contract again, several seconds; store/local runs it under -short")
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		dataDir := t.TempDir()
		index(t, keywordOnly(dataDir, catalog.Default), "testdata/other.jsonl")
		cat, err := OpenCatalog(dataDir, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cat.Close() })
		col, err := cat.Create("contract", catalog.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := local.Open(cat.Dir(col.Name), local.Options{Vectors: store.VectorSpace{Model: storetest.Model, Dim: storetest.Dim}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
