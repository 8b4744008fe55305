package server

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/server/internal/servertest"
)

// TestTracingExports checks that with an OTLP endpoint, requests over both
// transports produce spans that reach the collector.
func TestTracingExports(t *testing.T) {
	var mu sync.Mutex
	var spans []*tracepb.Span
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				spans = append(spans, ss.GetSpans()...)
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()

	tr, err := NewTracing(t.Context(), TracingOptions{Endpoint: collector.URL, SampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, serverSetup{opts: func(o *Options) { o.Tracing = tr }})
	if _, err := ts.search().Search(t.Context(), &cariv1.SearchRequest{Query: "jazz"}); err != nil {
		t.Fatal(err)
	}
	if r := ts.do(t, "POST", "/v1/search", `{"query":"jazz"}`, "Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"); r.code != http.StatusOK {
		t.Fatalf("HTTP search: %d %s", r.code, r.body)
	}
	// The gRPC server span ends when the server has sent its response, so
	// it may end after the client has read it: flush until it has arrived
	// (or the deadline passes) before shutting the exporter down.
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var names []string
	grpcServerSpans := 0
	traceSpans := func() {
		mu.Lock()
		defer mu.Unlock()
		names, grpcServerSpans = nil, 0
		for _, sp := range spans {
			if hex.EncodeToString(sp.GetTraceId()) != traceID {
				continue
			}
			names = append(names, sp.GetName())
			if sp.GetName() == "cari.v1.SearchService/Search" && sp.GetKind() == tracepb.Span_SPAN_KIND_SERVER {
				grpcServerSpans++
			}
		}
	}
	for traceSpans(); grpcServerSpans == 0 && ctx.Err() == nil; traceSpans() {
		if err := tr.tp.ForceFlush(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// The HTTP request's trace, from its traceparent header, must reach
	// through the gateway into the in-process gRPC server.
	traceSpans()
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(names, "POST /v1/search") || grpcServerSpans != 1 {
		t.Errorf("spans of the HTTP request's trace: %v; want the HTTP span and the gRPC server span", names)
	}
	if len(spans) <= len(names) {
		t.Errorf("no span for the gRPC request (%d spans in all)", len(spans))
	}
}

func TestTracingOff(t *testing.T) {
	tr, err := NewTracing(t.Context(), TracingOptions{})
	if err != nil || tr.enabled() || tr.serverOptions() != nil || tr.dialOptions() != nil {
		t.Errorf("tracing without an endpoint: %+v %v, want it off", tr, err)
	}
	if err := tr.Shutdown(t.Context()); err != nil {
		t.Error(err)
	}
	if _, err := NewTracing(t.Context(), TracingOptions{Endpoint: "http://localhost:4318", SampleRatio: 2}); err == nil {
		t.Error("sample ratio 2 accepted")
	}
}

// TestServeUntilFlushesTraces: the spans still batched when the server
// stops (those of the drained requests last) are exported by ServeUntil,
// with no flush of the caller's.
func TestServeUntilFlushesTraces(t *testing.T) {
	var exports atomic.Int32
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		exports.Add(1)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	tr, err := NewTracing(t.Context(), TracingOptions{Endpoint: collector.URL, SampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	store := servertest.Store(t)
	defer store.Close()
	srv, err := New(Options{Searcher: searcher.New(store, searcher.Options{}), Store: store, StoreName: "local", Tracing: tr})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.tp.Tracer("test").Start(t.Context(), "batched")
	span.End()
	gl, err := Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := srv.ServeUntil(ctx, gl, nil, time.Second); err != nil {
		t.Fatal(err)
	}
	if exports.Load() == 0 {
		t.Error("the batched span was not exported when the server stopped")
	}
}
