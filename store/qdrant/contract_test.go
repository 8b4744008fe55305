package qdrant_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/qdrant"
	"github.com/cari-search/cari/store/qdrant/qdranttest"
	"github.com/cari-search/cari/store/storetest"
)

var space = store.VectorSpace{Model: storetest.Model, Dim: storetest.Dim}

// TestStoreContractDouble runs the store contract against the in-process
// double: Cari's requests, answered by an in-memory implementation of the
// calls it makes. Not real Qdrant (see qdranttest).
func TestStoreContractDouble(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		_, addr := qdranttest.Start(t, "")
		s, err := qdrant.Open(context.Background(), qdrant.Options{Addr: addr, Vectors: space})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestStoreContractQdrant runs the store contract against a real Qdrant
// when CARI_TEST_QDRANT_ADDR names its gRPC address, for example after
//
//	docker run --rm -p 6333:6333 -p 6334:6334 qdrant/qdrant:v1.17.1
//
// and CARI_TEST_QDRANT_ADDR=127.0.0.1:6334. Each subtest gets its own alias
// and collection, deleted afterwards.
func TestStoreContractQdrant(t *testing.T) {
	addr := os.Getenv("CARI_TEST_QDRANT_ADDR")
	if addr == "" {
		t.Skip("CARI_TEST_QDRANT_ADDR is not set; start Qdrant (docker run --rm -p 6334:6334 qdrant/qdrant:v1.17.1) and set it to run this test")
	}
	n := 0
	storetest.Run(t, func(t *testing.T) store.Store {
		n++
		alias := fmt.Sprintf("cari-test-%d-%d", time.Now().UnixNano(), n)
		s, err := qdrant.Open(context.Background(), qdrant.Options{Addr: addr, APIKey: os.Getenv("CARI_TEST_QDRANT_API_KEY"), Alias: alias, Vectors: space})
		if err != nil {
			t.Fatal(err)
		}
		coll := s.Collection()
		t.Cleanup(func() {
			// The suite closed s; a second handle drops the alias and
			// the collection.
			c, err := qdrant.Open(context.Background(), qdrant.Options{Addr: addr, APIKey: os.Getenv("CARI_TEST_QDRANT_API_KEY"), Alias: alias, Vectors: space})
			if err != nil {
				t.Logf("clean up %s: %v", coll, err)
				return
			}
			defer c.Close()
			if err := c.DropAlias(context.Background()); err != nil {
				t.Logf("clean up %s: %v", coll, err)
			}
			if err := c.DropCollection(context.Background(), coll); err != nil {
				t.Logf("clean up %s: %v", coll, err)
			}
		})
		return s
	})
}
