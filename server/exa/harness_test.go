package exa_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/server"
	"github.com/cari-search/cari/server/internal/servertest"
	"github.com/cari-search/cari/store/local"
)

// testServer is a running server, whose HTTP port serves Exa's API.
type testServer struct {
	url  string
	logs *servertest.LogBuffer
}

type serverSetup struct {
	guard server.GuardOptions
	opts  func(*server.Options)
	// docs are indexed beside servertest.Docs.
	docs []cari.Document
	// vectors embeds documents and queries with servertest.Embedder, so
	// that neural and hybrid searches run.
	vectors bool
}

// startServer runs the whole server on loopback, so that Exa's requests
// pass the guard, limits and services as they do in production.
func startServer(t *testing.T, setup serverSetup) *testServer {
	t.Helper()
	var st *local.Store
	var searching searcher.Options
	if setup.vectors {
		st = servertest.VectorStore(t)
		searching = searcher.Options{Embedder: servertest.Embedder{}, Model: servertest.EmbedderSpace.Model}
	} else {
		st = servertest.Store(t)
	}
	if len(setup.docs) > 0 {
		servertest.Index(t, st, setup.docs...)
	}
	guard, err := server.NewGuard(setup.guard)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{logs: &servertest.LogBuffer{}}
	opts := server.Options{
		Searcher:  searcher.New(st, searching),
		Store:     st,
		StoreName: "local",
		Logger:    slog.New(slog.NewJSONHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Guard:     guard,
	}
	if setup.opts != nil {
		setup.opts(&opts)
	}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the store closes after the server stops.
	t.Cleanup(func() {
		st.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs.String())
		}
	})
	ts.url = servertest.Serve(t, srv.Serve, srv.Shutdown)
	return ts
}

// httpResult is an HTTP response with its body read.
type httpResult struct {
	code   int
	header http.Header
	body   []byte
}

// do sends one HTTP request; headers are name, value pairs.
func (ts *testServer) do(t *testing.T, method, path, body string, headers ...string) httpResult {
	t.Helper()
	r := servertest.Do(t, ts.url, method, path, body, headers...)
	return httpResult{code: r.Code, header: r.Header, body: r.Body}
}

// exaDo posts body to an Exa endpoint and decodes the JSON answer.
func exaDo(t *testing.T, ts *testServer, path, body string, headers ...string) (int, map[string]any, http.Header) {
	t.Helper()
	r := ts.do(t, "POST", path, body, headers...)
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("POST %s: %d, body is not JSON: %v\n%s", path, r.code, err, r.body)
	}
	return r.code, m, r.header
}
