package server

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cari-search/cari"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/server/internal/servertest"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
)

// heldStore is a local store whose keyword searches wait while its
// collection's hold is set, and which records being closed while a search
// is in it, or a search that reaches it closed (a use after close).
type heldStore struct {
	*local.Store
	h        *holds
	name     string
	closed   atomic.Bool
	inFlight atomic.Int32
}

func (s *heldStore) SearchKeyword(ctx context.Context, q store.KeywordQuery) ([]store.Hit, error) {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	if hold := s.h.of(s.name); hold != nil {
		s.h.entered <- s.name
		<-hold
	}
	if s.closed.Load() {
		s.h.usedClosed.Store(true)
	}
	return s.Store.SearchKeyword(ctx, q)
}

func (s *heldStore) Close() error {
	if s.inFlight.Load() > 0 {
		s.h.usedClosed.Store(true)
	}
	s.closed.Store(true)
	return s.Store.Close()
}

// holds are the gates of startHeldServer's collections, and what its
// opener saw: each open's collection and language setting, in order.
type holds struct {
	mu         sync.Mutex
	gates      map[string]chan struct{}
	entered    chan string
	usedClosed atomic.Bool
	opened     []string
}

func (h *holds) of(name string) chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gates[name]
}

// hold makes name's searches wait until the returned func is called.
func (h *holds) hold(name string) (release func()) {
	gate := make(chan struct{})
	h.mu.Lock()
	h.gates[name] = gate
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		delete(h.gates, name)
		h.mu.Unlock()
		close(gate)
	}
}

func (h *holds) opens() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.opened, " ")
}

// startHeldServer runs a server whose collections, default included, are
// heldStores in a catalog; docs holds servertest.Docs, default Merapi. Changes
// wait drain for requests in flight.
func startHeldServer(t *testing.T, drain time.Duration) (*testServer, *holds) {
	t.Helper()
	cat, err := catalog.Open(t.TempDir(), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	servertest.Collection(t, cat, "docs", catalog.Settings{Embedder: "none"}, servertest.Docs...)
	h := &holds{gates: map[string]chan struct{}{}, entered: make(chan string, 16)}
	open := func(_ context.Context, rec catalog.Collection) (*Collection, error) {
		st, err := local.Open(cat.Dir(rec.Name), local.Options{})
		if err != nil {
			return nil, err
		}
		h.mu.Lock()
		h.opened = append(h.opened, rec.Name+":"+rec.Settings.Language)
		h.mu.Unlock()
		held := &heldStore{Store: st, h: h, name: rec.Name}
		return &Collection{Searcher: searcher.New(held, searcher.Options{}), Store: st, StoreName: "local", Close: held.Close}, nil
	}
	def, err := local.Open(cat.Dir(catalog.Default), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	servertest.Index(t, def, cari.Document{ID: "merapi", Title: "Merapi", Text: "Merapi is a volcano in Java."})
	if err := def.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := open(t.Context(), catalog.Collection{Name: catalog.Default})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ts := startServer(t, serverSetup{guard: GuardOptions{Keys: testKeys}, opts: func(o *Options) {
		o.Searcher, o.Store = d.Searcher, d.Store
		o.Collections = &CollectionSet{Catalog: cat, Open: open, CloseDefault: d.Close, DrainTimeout: drain}
	}})
	return ts, h
}

// changing waits until the router has begun to change the collection
// name, and so waits for its requests.
func changing(t *testing.T, r *router, name string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		r.mu.Lock()
		_, ok := r.changing[name]
		r.mu.Unlock()
		if ok {
			return
		}
	}
	t.Fatalf("the router never began to change collection %s", name)
}

// TestCollectionChangeWithSearchInFlight: deleting or updating a
// collection (default too) while a search on it is in flight lets the
// search finish on the store it began on, never a closed one; then a
// deleted collection is NOT_FOUND, and an updated one is served, reopened,
// with its new settings.
func TestCollectionChangeWithSearchInFlight(t *testing.T) {
	cases := []struct {
		name, collection string
		change           func(ctx context.Context, cs cariv1.CollectionServiceClient) error
		// after is the search's code after the change, opens what the
		// opener saw by then.
		after codes.Code
		opens string
	}{
		{"delete", "docs", func(ctx context.Context, cs cariv1.CollectionServiceClient) error {
			_, err := cs.DeleteCollection(ctx, &cariv1.DeleteCollectionRequest{Name: "docs"})
			return err
		}, codes.NotFound, "default: docs:"},
		{"update", "docs", func(ctx context.Context, cs cariv1.CollectionServiceClient) error {
			_, err := cs.UpdateCollection(ctx, &cariv1.UpdateCollectionRequest{Name: "docs", Settings: &cariv1.CollectionSettings{Embedder: "none", Language: "fr"}})
			return err
		}, codes.OK, "default: docs: docs:fr"},
		{"update default", "default", func(ctx context.Context, cs cariv1.CollectionServiceClient) error {
			_, err := cs.UpdateCollection(ctx, &cariv1.UpdateCollectionRequest{Name: "default", Settings: &cariv1.CollectionSettings{Language: "de"}})
			return err
		}, codes.OK, "default: default:de"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, h := startHeldServer(t, 5*time.Second)
			admin := withKey(t.Context(), adminSecret)
			cs := cariv1.NewCollectionServiceClient(ts.conn)
			search := func() (*cariv1.SearchResponse, error) {
				return ts.search().Search(admin, &cariv1.SearchRequest{Query: "volcano", Collection: tc.collection})
			}
			if _, err := search(); err != nil { // opens it
				t.Fatal(err)
			}
			release := h.hold(tc.collection)
			type result struct {
				resp *cariv1.SearchResponse
				err  error
			}
			inFlight := make(chan result, 1)
			go func() {
				resp, err := search()
				inFlight <- result{resp, err}
			}()
			<-h.entered
			changed := make(chan error, 1)
			go func() { changed <- tc.change(admin, cs) }()
			changing(t, ts.router, tc.collection)
			var changeErr error
			select {
			case changeErr = <-changed:
				t.Errorf("the %s ended with a search in flight (%v), want it to wait for the search", tc.name, changeErr)
			case <-time.After(100 * time.Millisecond):
			}
			release()
			r := <-inFlight
			if r.err != nil || len(r.resp.GetResults()) == 0 {
				t.Errorf("search in flight during the %s: %v, %v; want its results", tc.name, r.resp, r.err)
			}
			if changeErr == nil {
				changeErr = <-changed
			}
			if changeErr != nil {
				t.Fatalf("%s: %v", tc.name, changeErr)
			}
			if h.usedClosed.Load() {
				t.Errorf("a search reached a closed store during the %s", tc.name)
			}
			if _, err := search(); status.Code(err) != tc.after {
				t.Errorf("search after the %s: %v, want %s", tc.name, err, tc.after)
			}
			if got := h.opens(); got != tc.opens {
				t.Errorf("opened %q, want %q", got, tc.opens)
			}
		})
	}
}

// TestCollectionChangeOutlastedByRequest: a request that outlasts the
// drain timeout leaves the collection unchanged and serving, and the
// caller is told to retry.
func TestCollectionChangeOutlastedByRequest(t *testing.T) {
	ts, h := startHeldServer(t, 20*time.Millisecond)
	admin := withKey(t.Context(), adminSecret)
	cs := cariv1.NewCollectionServiceClient(ts.conn)
	release := h.hold("docs")
	inFlight := make(chan error, 1)
	go func() {
		_, err := ts.search().Search(admin, &cariv1.SearchRequest{Query: "volcano", Collection: "docs"})
		inFlight <- err
	}()
	<-h.entered
	_, err := cs.DeleteCollection(admin, &cariv1.DeleteCollectionRequest{Name: "docs"})
	if h.usedClosed.Load() {
		t.Errorf("the store was closed under a search")
	}
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), `"docs"`) || !strings.Contains(err.Error(), "retry") {
		t.Errorf("delete while a search outlasts the wait: %v, want UNAVAILABLE naming docs and saying to retry", err)
	}
	release()
	if err := <-inFlight; err != nil {
		t.Errorf("search in flight: %v", err)
	}
	if resp, err := ts.search().Search(admin, &cariv1.SearchRequest{Query: "volcano", Collection: "docs"}); err != nil || len(resp.GetResults()) == 0 {
		t.Errorf("docs after the refused delete: %v, %v; want it whole", resp, err)
	}
}
