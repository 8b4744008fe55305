// Package servertest holds the fixtures that the tests of server and of
// server/exa share: the documents every test server starts with, a store
// that holds them, a log sink to read while a server writes, and an HTTP
// request with its answer read. It cannot build a server itself, since
// server's own tests would then import server twice; Serve runs one built
// by the caller.
package servertest

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
)

// Docs are the documents every test server starts with.
var Docs = []cari.Document{
	{ID: "volcano", URL: "https://geo.example.com/volcano", Title: "How volcanoes erupt", Text: "A volcano erupts when molten magma rises through the crust. Gas pressure drives the eruption. Lava and ash pour out of the vent.", Published: time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)},
	{ID: "merapi", URL: "https://news.example.com/merapi", Title: "Merapi erupts again", Text: "Mount Merapi, the most active volcano in Indonesia, erupted on Sunday. Villagers left the slopes as ash fell.", Published: time.Date(2023, 5, 2, 0, 0, 0, 0, time.UTC)},
	{ID: "jazz", URL: "https://music.example.org/jazz", Title: "The birth of jazz", Text: "Jazz grew out of blues and ragtime in New Orleans. Brass bands and improvising soloists shaped swing."},
	{ID: "holes", URL: "https://space.example.net/holes", Title: "Black holes", Text: "A black hole is a region of spacetime where gravity is so strong that nothing escapes."},
}

// Store opens a local store in a temporary directory holding Docs
// (keyword only). The caller closes it.
func Store(t testing.TB) *local.Store {
	t.Helper()
	st, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	Index(t, st, Docs...)
	return st
}

// Collection creates collection name with settings s in cat, holding docs
// (keyword only), and closes its store again for a server to open.
func Collection(t testing.TB, cat *catalog.Catalog, name string, s catalog.Settings, docs ...cari.Document) {
	t.Helper()
	if _, err := cat.Create(name, s); err != nil {
		t.Fatal(err)
	}
	st, err := local.Open(cat.Dir(name), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	Index(t, st, docs...)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// VectorStore opens a local store in a temporary directory holding Docs
// with passage vectors made by Embedder, for neural and hybrid searches.
// The caller closes it.
func VectorStore(t testing.TB) *local.Store {
	t.Helper()
	st, err := local.Open(t.TempDir(), local.Options{Vectors: EmbedderSpace})
	if err != nil {
		t.Fatal(err)
	}
	Index(t, st, Docs...)
	return st
}

// Index adds docs to st and flushes them, embedding their passages with
// Embedder when st holds vectors.
func Index(t testing.TB, st *local.Store, docs ...cari.Document) {
	t.Helper()
	var opts indexer.Options
	if !st.Generation().Vectors.IsZero() {
		opts.Embedder = Embedder{}
	}
	ix, err := indexer.New(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if err := ix.Add(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// LogBuffer is a log sink that tests read while the server writes.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *LogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is all that was written so far.
func (s *LogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Response is an HTTP response with its body read.
type Response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// Do sends one HTTP request to url+path, a JSON body when body is not
// empty; headers are name, value pairs.
func Do(t testing.TB, url, method, path, body string, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Code: resp.StatusCode, Header: resp.Header, Body: b}
}

// Serve runs a server on two loopback ports until the test ends: serve
// answers gRPC on the first and HTTP on the second (server.Server's Serve),
// shutdown stops it. It returns the HTTP side's URL.
func Serve(t testing.TB, serve func(grpcLis, httpLis net.Listener) error, shutdown func(context.Context) error) string {
	t.Helper()
	url, _ := ServeBoth(t, serve, shutdown)
	return url
}

// ServeBoth is Serve, returning the gRPC listener's address (host:port)
// too.
func ServeBoth(t testing.TB, serve func(grpcLis, httpLis net.Listener) error, shutdown func(context.Context) error) (httpURL, grpcAddr string) {
	t.Helper()
	var lis [2]net.Listener
	for i := range lis {
		var err error
		if lis[i], err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	go func() { _ = serve(lis[0], lis[1]) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shutdown(ctx)
	})
	return "http://" + lis[1].Addr().String(), lis[0].Addr().String()
}
