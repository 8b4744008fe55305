package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

func TestRateLimit(t *testing.T) {
	keys := []Key{
		{Name: "tiny", Secret: searchSecret, Scope: ScopeSearch, Rate: 0.01, Burst: 2},
		{Name: "roomy", Secret: adminSecret, Scope: ScopeAdmin},
	}
	ts := startServer(t, serverSetup{guard: GuardOptions{Keys: keys, Rate: 100, Burst: 100}})
	req := &cariv1.SearchRequest{Query: "jazz"}
	ctx := withKey(t.Context(), searchSecret)
	for i := range 2 {
		if _, err := ts.search().Search(ctx, req); err != nil {
			t.Fatalf("search %d within the burst: %v", i+1, err)
		}
	}
	var hdr metadata.MD
	_, err := ts.search().Search(ctx, req, grpc.Header(&hdr))
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), `"tiny"`) {
		t.Fatalf("third search: %v, want RESOURCE_EXHAUSTED naming the key", err)
	}
	if ra := hdr.Get("retry-after"); len(ra) != 1 || ra[0] == "0" {
		t.Errorf("retry-after metadata %v, want whole seconds", ra)
	}
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			retry = ri
		}
	}
	if retry == nil || retry.GetRetryDelay().AsDuration() <= 0 {
		t.Errorf("details %v, want a google.rpc.RetryInfo", st.Details())
	}

	r := ts.do(t, "POST", "/v1/search", `{"query":"jazz"}`, "X-Api-Key", searchSecret)
	if r.code != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("HTTP over the limit: %d, Retry-After %q, want 429 with Retry-After", r.code, r.header.Get("Retry-After"))
	}
	// Another key has its own bucket.
	if _, err := ts.search().Search(withKey(t.Context(), adminSecret), req); err != nil {
		t.Errorf("another key: %v", err)
	}
	// Health checks are never limited.
	if _, err := healthpb.NewHealthClient(ts.conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health over the limit: %v", err)
	}
}

func TestRateLimitAnonymous(t *testing.T) {
	ts := startServer(t, serverSetup{guard: GuardOptions{Rate: 0.01, Burst: 1}})
	if r := ts.do(t, "POST", "/v1/search", `{"query":"jazz"}`); r.code != http.StatusOK {
		t.Fatalf("first: %d %s", r.code, r.body)
	}
	if r := ts.do(t, "POST", "/v1/search", `{"query":"jazz"}`); r.code != http.StatusTooManyRequests || !strings.Contains(string(r.body), "client address") {
		t.Errorf("second from the same address: %d %s, want 429", r.code, r.body)
	}
}

func TestRateLimiterForgetsIdleCallers(t *testing.T) {
	rl := newRateLimiter(1, 1)
	now := time.Now()
	for _, c := range []string{"a", "b", "c"} {
		rl.allow(c, Key{}, now)
	}
	rl.allow("d", Key{}, now.Add(idleBucketTTL+2*time.Minute))
	if len(rl.buckets) != 1 {
		t.Errorf("%d buckets after the others idled out, want 1", len(rl.buckets))
	}
}

// TestConcurrencyLimit fills the only slot and checks that the next request
// is shed at once with RESOURCE_EXHAUSTED, then that a queued one waits and
// gets through when the slot frees. "At once" is the limiter's decision,
// which its message names (the queue was full, rather than no slot freed
// within QueueWait), not a time that load could stretch.
func TestConcurrencyLimit(t *testing.T) {
	ts := startServer(t, serverSetup{gated: true, guard: GuardOptions{MaxConcurrent: 1, MaxQueued: 1, QueueWait: 10 * time.Second}})
	req := &cariv1.SearchRequest{Query: "jazz"}
	first := make(chan error, 1)
	go func() { _, err := ts.search().Search(t.Context(), req); first <- err }()
	<-ts.gated.entered

	queued := make(chan error, 1)
	go func() { _, err := ts.search().Search(t.Context(), req); queued <- err }()
	waitFor(t, func() bool { return ts.guard.conc.queued() == 1 })

	var hdr metadata.MD
	_, err := ts.search().Search(t.Context(), req, grpc.Header(&hdr))
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(status.Convert(err).Message(), "1 waiting, the most it takes") {
		t.Fatalf("third search with the slot and the queue full: %v, want RESOURCE_EXHAUSTED at once for the full queue", err)
	}
	if len(hdr.Get("retry-after")) != 1 {
		t.Errorf("no retry-after with the shed request")
	}
	if r := ts.do(t, "POST", "/v1/search", `{"query":"jazz"}`); r.code != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
		t.Errorf("HTTP while full: %d Retry-After %q, want 429 and 1", r.code, r.header.Get("Retry-After"))
	}
	close(ts.gated.gate)
	if err := <-first; err != nil {
		t.Errorf("first search: %v", err)
	}
	if err := <-queued; err != nil {
		t.Errorf("queued search: %v", err)
	}
}

func TestConcurrencyLimiterWait(t *testing.T) {
	cl := newConcurrencyLimiter(1, 4, 30*time.Millisecond)
	release, err := cl.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = cl.acquire(t.Context())
	var shed errShed
	if !errors.As(err, &shed) || shed.queueFull || time.Since(start) < 30*time.Millisecond {
		t.Errorf("second acquire: %v after %v, want shed after the 30ms wait", err, time.Since(start))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	cl.wait = time.Minute
	if _, err := cl.acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("acquire past the deadline: %v", err)
	}
	release()
	if r, err := cl.acquire(t.Context()); err != nil {
		t.Errorf("acquire after release: %v", err)
	} else {
		r()
	}
}

// TestDeadline checks that a search past its deadline stops (the store sees
// its context end) and answers DEADLINE_EXCEEDED, over gRPC and HTTP, for a
// client's deadline and for the server's own request timeout. The gated
// store answers only when its context ends, so an answer at all shows the
// deadline was kept; how long it took would depend on the machine's load.
func TestDeadline(t *testing.T) {
	ts := startServer(t, serverSetup{gated: true, guard: GuardOptions{RequestTimeout: 300 * time.Millisecond}})
	req := &cariv1.SearchRequest{Query: "jazz"}
	check := func(t *testing.T, what string, err error) {
		t.Helper()
		if status.Code(err) != codes.DeadlineExceeded {
			t.Errorf("%s: %v, want DEADLINE_EXCEEDED", what, err)
		}
		select {
		case err := <-ts.gated.stopped:
			// A client's deadline passes on the client first, which then
			// cancels the call, so the server may see either.
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				t.Errorf("%s: the store's search ended with %v, want its context ended", what, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s: the store's search did not stop", what)
		}
	}
	t.Run("client deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := ts.search().Search(ctx, req)
		check(t, "gRPC search with a 100ms deadline", err)
	})
	t.Run("server timeout", func(t *testing.T) {
		_, err := ts.search().Search(t.Context(), req)
		check(t, "gRPC search without a deadline", err)
	})
	t.Run("HTTP", func(t *testing.T) {
		r := ts.do(t, "POST", "/v1/search", `{"query":"jazz"}`, "Grpc-Timeout", "100m")
		if r.code != http.StatusGatewayTimeout || r.json(t)["code"] != float64(codes.DeadlineExceeded) {
			t.Errorf("HTTP search with Grpc-Timeout 100m: %d %s, want 504", r.code, r.body)
		}
		check(t, "HTTP search", status.Error(codes.DeadlineExceeded, ""))
	})
	if !strings.Contains(ts.logs.String(), `"code":"DeadlineExceeded"`) {
		t.Errorf("no log line with code DeadlineExceeded")
	}
}

// TestShutdownFinishesInFlight starts a search, shuts down while it runs,
// and checks that it completes while new requests are refused.
func TestShutdownFinishesInFlight(t *testing.T) {
	ts := startServer(t, serverSetup{gated: true})
	grpcDone := make(chan error, 1)
	go func() {
		_, err := ts.search().Search(t.Context(), &cariv1.SearchRequest{Query: "jazz"})
		grpcDone <- err
	}()
	httpDone := make(chan httpResult, 1)
	go func() { httpDone <- ts.do(t, "POST", "/v1/search", `{"query":"jazz"}`) }()
	<-ts.gated.entered
	<-ts.gated.entered

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- ts.Shutdown(ctx)
	}()
	waitFor(t, func() bool {
		resp, err := ts.Health().Check(t.Context(), &healthpb.HealthCheckRequest{})
		return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING
	})
	close(ts.gated.gate)
	if err := <-grpcDone; err != nil {
		t.Errorf("in-flight gRPC search: %v", err)
	}
	if r := <-httpDone; r.code != http.StatusOK {
		t.Errorf("in-flight HTTP search: %d %s", r.code, r.body)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-ts.done; err != nil {
		t.Errorf("Serve after Shutdown: %v", err)
	}
	if _, err := http.Get(ts.url + "/healthz"); err == nil {
		t.Error("HTTP still answers after Shutdown")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestGuardLateAnswer checks that a handler which ignores its context and
// answers after the deadline still gets DEADLINE_EXCEEDED.
func TestGuardLateAnswer(t *testing.T) {
	g, err := NewGuard(GuardOptions{RequestTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.run(t.Context(), "/cari.v1.SearchService/Search", nil, func(ctx context.Context) (any, error) {
		<-ctx.Done()
		return "too late", nil
	})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("late answer: %v, want DEADLINE_EXCEEDED", err)
	}
}
