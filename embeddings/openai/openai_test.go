package openai

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cari-search/cari/internal/modelhttp"
)

// fakeServer speaks POST /v1/embeddings as vLLM and TEI do, checks every
// request's shape, and answers with vectors derived from each input's
// hash, so that a test can tell which vector belongs to which text.
type fakeServer struct {
	t   *testing.T
	dim int
	// respond, if set, replaces the normal answer for the n-th request
	// (from 0); returning false falls through to the normal answer.
	respond func(n int, w http.ResponseWriter, req request) bool
	// base64 answers with base64 vectors; reverse lists data backwards.
	base64, reverse bool

	mu       sync.Mutex
	requests []request
	headers  []http.Header
}

func (s *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		s.t.Errorf("%s %s, want POST /v1/embeddings", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		s.t.Errorf("Content-Type %q", ct)
	}
	var req request
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.t.Errorf("request body: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if req.Model == "" || len(req.Input) == 0 || req.EncodingFormat != "float" {
		s.t.Errorf("request %+v: want model, input and encoding_format float", req)
	}
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, req)
	s.headers = append(s.headers, r.Header.Clone())
	s.mu.Unlock()
	if s.respond != nil && s.respond(n, w, req) {
		return
	}
	dim := s.dim
	if req.Dimensions > 0 {
		dim = req.Dimensions
	}
	type item struct {
		Object    string `json:"object"`
		Index     int    `json:"index"`
		Embedding any    `json:"embedding"`
	}
	data := make([]item, len(req.Input))
	for i, in := range req.Input {
		var emb any = textVector(in, dim)
		if s.base64 {
			emb = base64Vector(textVector(in, dim))
		}
		data[i] = item{"embedding", i, emb}
	}
	if s.reverse {
		for i, j := 0, len(data)-1; i < j; i, j = i+1, j-1 {
			data[i], data[j] = data[j], data[i]
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": 1, "total_tokens": 1},
	})
}

// count is the number of requests received so far.
func (s *fakeServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// textVector is a deterministic unit vector for a text.
func textVector(text string, dim int) []float32 {
	h := fnv.New64a()
	h.Write([]byte(text))
	seed := h.Sum64()
	v := make([]float32, dim)
	var n float64
	for i := range v {
		seed = seed*6364136223846793005 + 1442695040888963407
		v[i] = float32(int64(seed>>11)%1000) / 1000
		n += float64(v[i]) * float64(v[i])
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(n))
	}
	return v
}

func base64Vector(v []float32) string {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func newTestClient(t *testing.T, s *fakeServer, opts Options) *Client {
	t.Helper()
	s.t = t
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	opts.BaseURL = srv.URL + "/v1"
	if opts.Model == "" {
		opts.Model = "Qwen/Qwen3-Embedding-0.6B"
	}
	if opts.Backoff == 0 {
		opts.Backoff = time.Millisecond
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func texts(n, size int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("text %d %s", i, strings.Repeat("x", size))
	}
	return out
}

func checkVectors(t *testing.T, in []string, got [][]float32, dim int) {
	t.Helper()
	if len(got) != len(in) {
		t.Fatalf("%d vectors for %d texts", len(got), len(in))
	}
	for i, text := range in {
		want := textVector(text, dim)
		if len(got[i]) != dim {
			t.Fatalf("vector %d has %d dimensions, want %d", i, len(got[i]), dim)
		}
		for j := range want {
			if math.Abs(float64(got[i][j]-want[j])) > 1e-6 {
				t.Fatalf("vector %d is not the one of %q", i, text)
			}
		}
	}
}

func TestEmbedBatchesByCount(t *testing.T) {
	s := &fakeServer{dim: 8}
	c := newTestClient(t, s, Options{MaxBatchSize: 32, APIKey: "secret"})
	in := texts(70, 10)
	got, err := c.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, in, got, 8)
	var sizes []int
	for i, r := range s.requests {
		sizes = append(sizes, len(r.Input))
		if r.Model != "Qwen/Qwen3-Embedding-0.6B" || r.Dimensions != 0 {
			t.Errorf("request %d: model %q dimensions %d", i, r.Model, r.Dimensions)
		}
		if auth := s.headers[i].Get("Authorization"); auth != "Bearer secret" {
			t.Errorf("Authorization %q", auth)
		}
	}
	if fmt.Sprint(sizes) != "[32 32 6]" {
		t.Errorf("batch sizes %v, want [32 32 6]", sizes)
	}
}

func TestEmbedBatchesByTokens(t *testing.T) {
	s := &fakeServer{dim: 4}
	c := newTestClient(t, s, Options{MaxBatchTokens: 250})
	in := texts(5, 300)                // about 104 estimated tokens each
	in = append(in, texts(1, 2000)...) // alone over the budget: sent alone
	got, err := c.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, in, got, 4)
	var sizes []int
	for _, r := range s.requests {
		sizes = append(sizes, len(r.Input))
	}
	if fmt.Sprint(sizes) != "[2 2 1 1]" {
		t.Errorf("batch sizes %v, want [2 2 1 1]", sizes)
	}
}

func TestEmbedOrderAndBase64(t *testing.T) {
	for _, s := range []*fakeServer{{dim: 6, reverse: true}, {dim: 6, base64: true}} {
		c := newTestClient(t, s, Options{})
		in := texts(5, 3)
		got, err := c.Embed(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		checkVectors(t, in, got, 6)
	}
}

func TestRetries(t *testing.T) {
	fail := func(codes ...int) func(int, http.ResponseWriter, request) bool {
		return func(n int, w http.ResponseWriter, _ request) bool {
			if n >= len(codes) {
				return false
			}
			if codes[n] == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "0")
			}
			w.WriteHeader(codes[n])
			fmt.Fprint(w, `{"error": {"message": "busy", "type": "server_error"}}`)
			return true
		}
	}
	s := &fakeServer{dim: 4, respond: fail(503, 429, 500, 502)}
	c := newTestClient(t, s, Options{MaxRetries: 4})
	in := texts(3, 1)
	got, err := c.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, in, got, 4)
	if s.count() != 5 {
		t.Errorf("%d attempts, want 5", s.count())
	}

	s = &fakeServer{dim: 4, respond: fail(503, 503, 503)}
	c = newTestClient(t, s, Options{MaxRetries: 2})
	if _, err := c.Embed(context.Background(), in); err == nil || !strings.Contains(err.Error(), "HTTP 503: busy") {
		t.Errorf("retries exhausted: %v", err)
	}
	if s.count() != 3 {
		t.Errorf("%d attempts, want 3", s.count())
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{400, `{"error": {"message": "This model's maximum context length is 8192 tokens", "type": "BadRequestError"}}`, "maximum context length"},
		{413, `{"error": "batch size 64 > maximum allowed batch size 32", "error_type": "Validation"}`, "maximum allowed batch size"},
		{404, `{"detail": "Not Found"}`, "Not Found"},
		{401, `unauthorized`, "HTTP 401: unauthorized"},
		// llama.cpp evaluates each input in one physical batch (-ub, 512
		// by default) and answers 500 for a longer one; without
		// --embeddings, 501 (ggml-org/llama.cpp tools/server/). Neither
		// changes on a retry.
		{500, `{"error":{"code":500,"message":"input (913 tokens) is too large to process. increase the physical batch size (current batch size: 512)","type":"server_error"}}`, "start llama-server with -ub"},
		{501, `{"error":{"code":501,"message":"This server does not support embeddings. Start it with ` + "`--embeddings`" + `","type":"not_supported_error"}}`, "start llama-server with --embeddings"},
		// vLLM: dimensions on a model not marked Matryoshka
		// (vllm-project/vllm vllm/pooling_params.py).
		{400, `{"object":"error","message":"Model \"Qwen/Qwen3-Embedding-0.6B\" does not support matryoshka representation, changing output dimensions will lead to poor results.","type":"BadRequestError","param":null,"code":400}`, "is_matryoshka"},
	} {
		s := &fakeServer{dim: 4, respond: func(_ int, w http.ResponseWriter, _ request) bool {
			w.WriteHeader(tc.status)
			fmt.Fprint(w, tc.body)
			return true
		}}
		c := newTestClient(t, s, Options{MaxRetries: 3})
		_, err := c.Embed(context.Background(), texts(2, 1))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("HTTP %d: error %v, want it to say %q", tc.status, err, tc.want)
		}
		if s.count() != 1 {
			t.Errorf("HTTP %d: %d attempts, want 1", tc.status, s.count())
		}
	}
}

func TestMalformedResponses(t *testing.T) {
	nan := base64Vector([]float32{1, float32(math.NaN())})
	for name, body := range map[string]string{
		"not json":           `{"data": [`,
		"too few":            `{"data": [{"index": 0, "embedding": [1, 0]}]}`,
		"repeated index":     `{"data": [{"index": 0, "embedding": [1, 0]}, {"index": 0, "embedding": [0, 1]}]}`,
		"index out of range": `{"data": [{"index": 0, "embedding": [1, 0]}, {"index": 2, "embedding": [0, 1]}]}`,
		"mixed dimensions":   `{"data": [{"index": 0, "embedding": [1, 0]}, {"index": 1, "embedding": [0, 1, 0]}]}`,
		"empty vector":       `{"data": [{"index": 0, "embedding": []}, {"index": 1, "embedding": [0, 1]}]}`,
		"not numbers":        `{"data": [{"index": 0, "embedding": ["a", "b"]}, {"index": 1, "embedding": [0, 1]}]}`,
		"NaN":                `{"data": [{"index": 0, "embedding": "` + nan + `"}, {"index": 1, "embedding": [0, 1]}]}`,
		"bad base64":         `{"data": [{"index": 0, "embedding": "!!"}, {"index": 1, "embedding": [0, 1]}]}`,
		"error object":       `{"error": {"message": "oops"}}`,
	} {
		s := &fakeServer{dim: 2, respond: func(_ int, w http.ResponseWriter, _ request) bool {
			fmt.Fprint(w, body)
			return true
		}}
		c := newTestClient(t, s, Options{MaxRetries: 2})
		if _, err := c.Embed(context.Background(), texts(2, 1)); err == nil || !strings.Contains(err.Error(), "malformed response") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

func TestDimensions(t *testing.T) {
	// The server honours "dimensions".
	s := &fakeServer{dim: 16}
	c := newTestClient(t, s, Options{Dimensions: 8})
	in := texts(3, 1)
	got, err := c.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, in, got, 8)
	if s.requests[0].Dimensions != 8 {
		t.Errorf("dimensions %d sent, want 8", s.requests[0].Dimensions)
	}

	// LocalTruncate: nothing sent, the full vectors are cut and re-normalised.
	s = &fakeServer{dim: 16}
	c = newTestClient(t, s, Options{Dimensions: 8, LocalTruncate: true})
	got, err = c.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if s.requests[0].Dimensions != 0 {
		t.Errorf("dimensions %d sent with LocalTruncate", s.requests[0].Dimensions)
	}
	for i, text := range in {
		full := textVector(text, 16)
		var n float64
		for _, x := range full[:8] {
			n += float64(x) * float64(x)
		}
		for j := range 8 {
			if math.Abs(float64(got[i][j])-float64(full[j])/math.Sqrt(n)) > 1e-6 {
				t.Fatalf("vector %d: not the re-normalised first 8 dimensions", i)
			}
		}
	}

	// A server that returns fewer dimensions than asked is an error.
	s = &fakeServer{dim: 4}
	c = newTestClient(t, s, Options{Dimensions: 8, LocalTruncate: true})
	if _, err := c.Embed(context.Background(), in); err == nil {
		t.Error("4 dimensions for 8 asked: no error")
	}
}

// TestTimeoutAndCancel checks the outcomes the client decides, not times
// that load could stretch: attempts are counted as the client sends them
// (one slow to arrive under load may time out before the server counts
// it), and the server answers only when the test ends, so an error at all
// shows the attempt timeout was kept.
func TestTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	slow := func(_ int, w http.ResponseWriter, _ request) bool {
		<-release
		return false
	}
	s := &fakeServer{dim: 4, respond: slow}
	var attempts atomic.Int32
	counting := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		attempts.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := newTestClient(t, s, Options{Timeout: 50 * time.Millisecond, MaxRetries: 1, HTTPClient: counting})
	if err := embedWithin(context.Background(), t, c); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
	if n := attempts.Load(); n != 2 {
		t.Errorf("%d attempts, want 2: the first and its one retry, each abandoned at the timeout", n)
	}

	// Cancelling during the (hour-long) backoff returns at once.
	s = &fakeServer{dim: 4, respond: func(_ int, w http.ResponseWriter, _ request) bool {
		w.WriteHeader(503)
		return true
	}}
	c = newTestClient(t, s, Options{MaxRetries: 5, Backoff: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := embedWithin(ctx, t, c); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled: %v", err)
	}
}

// embedWithin embeds one text and returns the error, failing the test when
// the call is still running after ten seconds: far longer than any
// deadline or timeout the callers set, so only a call that ignored them
// gets there.
func embedWithin(ctx context.Context, t *testing.T, c *Client) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := c.Embed(ctx, texts(1, 1))
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Embed still running after 10s")
		return nil
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewChecksOptions(t *testing.T) {
	for _, o := range []Options{{}, {BaseURL: "http://x/v1"}, {BaseURL: "ftp://x", Model: "m"}} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestBackoff(t *testing.T) {
	c, _ := New(Options{BaseURL: "http://x/v1", Model: "m", Backoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	for attempt, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second} {
		if got := c.backoff(attempt, 0); got != want {
			t.Errorf("attempt %d: %v, want %v", attempt, got, want)
		}
	}
	if got := c.backoff(0, 3*time.Second); got != time.Second {
		t.Errorf("Retry-After beyond the cap: %v", got)
	}
	if modelhttp.RetryAfter("7") != 7*time.Second || modelhttp.RetryAfter("soon") != 0 {
		t.Error("parseRetryAfter")
	}
}
