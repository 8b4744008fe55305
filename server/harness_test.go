package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"testing/fstest"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/server/internal/servertest"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local"
)

// gatedStore is a store whose keyword searches wait until the gate opens or
// their context ends, to hold requests in flight on purpose.
type gatedStore struct {
	*local.Store
	gate    chan struct{}
	entered chan struct{}
	// stopped receives the error of each search that ended by its context.
	stopped chan error
}

func (g *gatedStore) SearchKeyword(ctx context.Context, q store.KeywordQuery) ([]store.Hit, error) {
	g.entered <- struct{}{}
	select {
	case <-g.gate:
		return g.Store.SearchKeyword(ctx, q)
	case <-ctx.Done():
		g.stopped <- ctx.Err()
		return nil, ctx.Err()
	}
}

// testServer is a running Server on loopback ports.
type testServer struct {
	*Server
	grpcAddr string
	url      string
	conn     *grpc.ClientConn
	logs     *servertest.LogBuffer
	store    *local.Store
	gated    *gatedStore
	guard    *Guard
	done     chan error
}

type serverSetup struct {
	guard    GuardOptions
	gated    bool // searches wait on the gated store
	opts     func(*Options)
	webFiles fstest.MapFS
}

func startServer(t testing.TB, setup serverSetup) *testServer {
	t.Helper()
	store := servertest.Store(t)
	ts := &testServer{logs: &servertest.LogBuffer{}, store: store, done: make(chan error, 1)}
	var ss searcher.Store = store
	if setup.gated {
		ts.gated = &gatedStore{Store: store, gate: make(chan struct{}), entered: make(chan struct{}, 16), stopped: make(chan error, 16)}
		ss = ts.gated
	}
	guard, err := NewGuard(setup.guard)
	if err != nil {
		t.Fatal(err)
	}
	ts.guard = guard
	files := setup.webFiles
	if files == nil {
		files = fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>Cari</title>")}, "app.js": {Data: []byte("console.log(1)")}}
	}
	web, err := Web(files)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Searcher:  searcher.New(ss, searcher.Options{}),
		Store:     store,
		StoreName: "local",
		Logger:    slog.New(slog.NewJSONHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Guard:     guard,
		Metrics:   NewMetrics(),
		HTTP:      HTTPOptions{Web: web, CORSOrigins: []string{"https://app.example.com"}},
	}
	if setup.opts != nil {
		setup.opts(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = srv
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.grpcAddr, ts.url = gl.Addr().String(), "http://"+hl.Addr().String()
	go func() { ts.done <- srv.Serve(gl, hl) }()
	ts.conn, err = grpc.NewClient(ts.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if ts.gated != nil {
			select {
			case <-ts.gated.gate:
			default:
				close(ts.gated.gate)
			}
		}
		ts.conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		store.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs.String())
		}
	})
	return ts
}

func (ts *testServer) search() cariv1.SearchServiceClient {
	return cariv1.NewSearchServiceClient(ts.conn)
}
func (ts *testServer) index() cariv1.IndexServiceClient { return cariv1.NewIndexServiceClient(ts.conn) }

// withKey adds an API key to an outgoing gRPC context.
func withKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "x-api-key", key)
}

// httpResult is an HTTP response with its body read.
type httpResult struct {
	code   int
	header http.Header
	body   []byte
}

// json decodes the body into a generic map.
func (r httpResult) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not a JSON object: %v\n%s", r.code, err, r.body)
	}
	return m
}

// resultIDs are the IDs of the results of a search response.
func (r httpResult) resultIDs(t *testing.T) []string {
	t.Helper()
	var resp struct{ Results []struct{ ID string } }
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatalf("response %d is not a search response: %v\n%s", r.code, err, r.body)
	}
	ids := []string{}
	for _, res := range resp.Results {
		ids = append(ids, res.ID)
	}
	return ids
}

// do sends one HTTP request; headers are name, value pairs.
func (ts *testServer) do(t *testing.T, method, path, body string, headers ...string) httpResult {
	t.Helper()
	r := servertest.Do(t, ts.url, method, path, body, headers...)
	return httpResult{code: r.Code, header: r.Header, body: r.Body}
}
