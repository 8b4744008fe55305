package server

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/server/internal/servertest"
)

func TestListenExposure(t *testing.T) {
	lis, err := Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatalf("loopback without keys: %v", err)
	}
	lis.Close()
	_, err = Listen("0.0.0.0:0", false)
	var exposed *ExposureError
	if !errors.As(err, &exposed) || !strings.Contains(err.Error(), "is not a loopback address and no API keys are configured") {
		t.Fatalf("a public address without keys gives %v, want an ExposureError", err)
	}
	if lis, err = Listen("0.0.0.0:0", true); err != nil {
		t.Fatalf("a guarded public address: %v", err)
	}
	lis.Close()
	if _, err := Listen("127.0.0.1:notaport", true); err == nil || errors.As(err, &exposed) {
		t.Errorf("a bad address gives %v, want the listen error", err)
	}
}

// TestListenBoth: HTTP off gives no listener; a failing address says
// which it was, and leaves the other closed.
func TestListenBoth(t *testing.T) {
	g, h, err := ListenBoth("127.0.0.1:0", "off", false)
	if err != nil || h != nil {
		t.Fatalf("HTTP off: %v, %v", h, err)
	}
	addr := g.Addr().String()
	g.Close()
	var le *ListenError
	var exposed *ExposureError
	_, _, err = ListenBoth("127.0.0.1:0", "0.0.0.0:0", false)
	if !errors.As(err, &le) || !le.HTTP || !errors.As(err, &exposed) {
		t.Errorf("a public HTTP address without keys: %v, want an HTTP ListenError of exposure", err)
	}
	if _, _, err = ListenBoth("127.0.0.1:notaport", "", false); !errors.As(err, &le) || le.HTTP {
		t.Errorf("a bad gRPC address: %v, want a gRPC ListenError", err)
	}
	// The gRPC listener of a failed pair was closed: its address is free.
	g, h, err = ListenBoth(addr, "127.0.0.1:0", false)
	if err != nil {
		t.Fatalf("reusing %s: %v", addr, err)
	}
	g.Close()
	h.Close()
}

func TestKeys(t *testing.T) {
	keys, err := Keys("", KeyLists{Search: []string{" search-0123456789abcdef "}, Admin: []string{"admin-0123456789abcdef"}, SearchCollections: []string{"docs", " kb"}})
	if err != nil || len(keys) != 2 || keys[0].Secret != "search-0123456789abcdef" || keys[0].Scope != ScopeSearch || keys[1].Scope != ScopeAdmin ||
		!slices.Equal(keys[0].Collections, []string{"docs", "kb"}) || keys[1].Collections != nil {
		t.Errorf("Keys = %+v, %v; want the search key limited to docs and kb, the admin key to none", keys, err)
	}
	if _, err := Keys("testdata/absent-keys.yaml", KeyLists{}); err == nil {
		t.Error("a missing keys file was accepted")
	}
	if _, err := Keys("", KeyLists{Admin: []string{"admin-0123456789abcdef"}, AdminCollections: []string{"Docs"}}); err == nil || !strings.Contains(err.Error(), "admin keys") {
		t.Errorf("a collection name that is none: %v, want an error naming the admin keys' collections", err)
	}
}

func TestServeUntilStopsWithTheContext(t *testing.T) {
	store := servertest.Store(t)
	defer store.Close()
	logs := &servertest.LogBuffer{}
	srv, err := New(Options{Searcher: searcher.New(store, searcher.Options{}), Store: store, StoreName: "local", Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	gl, err := Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.ServeUntil(ctx, gl, nil, time.Second) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeUntil after the context ended: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ServeUntil did not return once the context ended")
	}
	if !strings.Contains(logs.String(), `"msg":"shutting down"`) {
		t.Errorf("no shutdown line in the log:\n%s", logs.String())
	}
}
