package local_test

import (
	"testing"

	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local"
	"github.com/cari-search/cari/store/storetest"
)

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := local.Open(t.TempDir(), local.Options{Vectors: store.VectorSpace{Model: storetest.Model, Dim: storetest.Dim}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
