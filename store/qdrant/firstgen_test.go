package qdrant_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/qdrant"
	"github.com/cari-search/cari/store/qdrant/qdranttest"
)

// openOn opens a store on the Qdrant at addr with the test vector space,
// closed when the test ends.
func openOn(t *testing.T, addr string) *qdrant.Store {
	t.Helper()
	s, err := qdrant.Open(context.Background(), qdrant.Options{Addr: addr, Vectors: space})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConcurrentFirstOpen starts several stores at once on a Qdrant with no
// alias, as serve replicas and a worker starting together do: every one
// finds no generation, and each writes as soon as it is open. The stand-in
// lines the race up: no store lists the aliases until all of them do, and
// after the first alias change the others wait until a store has written.
// Every write must then be found through the alias, in one generation.
func TestConcurrentFirstOpen(t *testing.T) {
	const n = 4
	srv, addr := qdranttest.Start(t, "")
	var (
		mu       sync.Mutex
		listed   int
		aliased  int
		allIn    = make(chan struct{})
		written  = make(chan struct{})
		once     sync.Once
		deadline = time.After(5 * time.Second) // the test fails, rather than hangs, if a store never writes
	)
	srv.BeforeCall(func(method string) {
		mu.Lock()
		var wait chan struct{}
		switch {
		case strings.HasSuffix(method, "/ListAliases") && listed < n:
			listed++
			if listed == n {
				close(allIn)
			}
			wait = allIn
		case strings.HasSuffix(method, "/UpdateAliases"):
			aliased++
			if aliased > 1 {
				wait = written
			}
		}
		mu.Unlock()
		if wait != nil {
			select {
			case <-wait:
			case <-deadline:
			}
		}
	})

	ctx := context.Background()
	stores := make([]*qdrant.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := qdrant.Open(ctx, qdrant.Options{Addr: addr, Vectors: space})
			if err != nil {
				errs[i] = fmt.Errorf("open: %w", err)
				return
			}
			stores[i] = s
			errs[i] = s.Upsert(ctx, []store.Entry{entry(fmt.Sprint("doc", i), "orchard", []float32{1, 0, 0, 0})})
			once.Do(func() { close(written) })
		})
	}
	wg.Wait()
	for i, s := range stores {
		if s != nil {
			t.Cleanup(func() { s.Close() })
		}
		if errs[i] != nil {
			t.Fatalf("store %d: %v", i, errs[i])
		}
	}

	srv.BeforeCall(nil)
	if c := len(srv.Requests("Collections/Create")); c != n {
		t.Fatalf("%d stores asked to create a collection, want all %d: the race was not lined up", c, n)
	}
	r := openOn(t, addr)
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprint("doc", i))
	}
	docs, err := r.Documents(ctx, ids)
	if err != nil || len(docs) != n {
		t.Errorf("through the alias %d of %d documents written are found (%v): writes went to a generation nobody serves", len(docs), n, err)
	}
	gens, err := r.Generations(ctx)
	if err != nil || len(gens) != 1 {
		t.Errorf("generations %+v (%v), want the one every store opened", gens, err)
	}
	for i, s := range stores {
		if s.Collection() != r.Collection() {
			t.Errorf("store %d opened %s, the alias names %s", i, s.Collection(), r.Collection())
		}
	}
}

// TestFirstGenerationWithoutAlias: a first generation its creator left
// without the alias (it stopped between the two, or the alias was dropped)
// is served again by the next store to open, with what was written to it,
// not replaced by an empty one.
func TestFirstGenerationWithoutAlias(t *testing.T) {
	_, addr := qdranttest.Start(t, "")
	ctx := context.Background()
	s := openOn(t, addr)
	if err := s.Upsert(ctx, []store.Entry{entry("kept", "orchard", []float32{1, 0, 0, 0})}); err != nil {
		t.Fatal(err)
	}
	if err := s.DropAlias(ctx); err != nil {
		t.Fatal(err)
	}
	r := openOn(t, addr)
	if got := keywordIDs(t, r, "orchard"); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("reopened without the alias: %v, want the document written before", got)
	}
}

// TestGCDropsOldestFirst: GC keeps the newest retired generations by age,
// and the first generation, whose name carries no time, is the oldest.
func TestGCDropsOldestFirst(t *testing.T) {
	_, addr := qdranttest.Start(t, "")
	ctx := context.Background()
	s := openOn(t, addr)
	first := s.Collection()
	var built []string
	for i := range 2 {
		b, err := s.BeginBuild(fmt.Sprint("corpus:", i))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(ctx, []store.Entry{entry("a", "apple", []float32{1, 0, 0, 0})}, 1); err != nil {
			t.Fatal(err)
		}
		if err := b.Swap(ctx); err != nil {
			t.Fatal(err)
		}
		built = append(built, b.Name())
	}
	dropped, err := s.GC(1)
	if err != nil || !slices.Equal(dropped, []string{first}) {
		t.Errorf("GC keeping 1 dropped %v (%v), want the first generation %s", dropped, err, first)
	}
	gens, err := s.Generations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range gens {
		names = append(names, g.Name)
	}
	if !slices.Equal(names, built) {
		t.Errorf("generations after GC %v, want %v", names, built)
	}
}
