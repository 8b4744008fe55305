package rerank

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/searcher"
)

// modelServer is an in-process model server: it records every request
// and answers with the test's handler.
type modelServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	calls    atomic.Int32
	// served, if set, is the model the server says it serves, as TEI's
	// GET /info (model_id; huggingface/text-embeddings-inference
	// router/src/http/server.rs) and vLLM's GET /v1/models (data[].id;
	// vllm-project/vllm vllm/entrypoints/openai/serving_models.py) do.
	// Unset, those paths answer 404, as a server without them would.
	served string
}

// recorded is one request as the server saw it.
type recorded struct {
	method, path, auth, contentType string
	body                            map[string]any
	raw                             []byte
}

// serve starts a server whose handler sees each request after it is
// recorded; n counts requests from 1.
func serve(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, body map[string]any, n int)) *modelServer {
	t.Helper()
	s := &modelServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			s.describe(w, r)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("request body is not JSON: %v: %s", err, raw)
		}
		s.mu.Lock()
		s.requests = append(s.requests, recorded{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body, raw})
		s.mu.Unlock()
		handler(w, r, body, int(s.calls.Add(1)))
	}))
	t.Cleanup(s.Close)
	return s
}

// describe answers the GET requests that ask which model is served.
func (s *modelServer) describe(w http.ResponseWriter, r *http.Request) {
	switch {
	case s.served == "":
		writeJSON(w, http.StatusNotFound, `{"detail":"Not Found"}`)
	case r.URL.Path == "/info":
		writeJSON(w, 200, fmt.Sprintf(`{"model_id":%q,"model_dtype":"float32","model_type":{"reranker":{"id2label":{"0":"LABEL_0"}}},"max_concurrent_requests":512,"max_input_length":512}`, s.served))
	case strings.HasSuffix(r.URL.Path, "/models"):
		writeJSON(w, 200, fmt.Sprintf(`{"object":"list","data":[{"id":%q,"object":"model","owned_by":"vllm","root":%q,"max_model_len":512}]}`, s.served, s.served))
	default:
		writeJSON(w, http.StatusNotFound, `{"detail":"Not Found"}`)
	}
}

func (s *modelServer) recorded() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// v1 is the server's API root.
func (s *modelServer) v1() string { return s.URL + "/v1" }

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// keys returns a JSON object's keys, sorted.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// cand makes a candidate as the searcher would hand it over.
func cand(id, title, passage string) searcher.Candidate {
	return searcher.Candidate{Document: cari.Document{ID: id, Title: title, Text: passage + " and more text"}, Passage: passage}
}

// quick is a server configuration with fast retries, for tests.
func quick(url string) Server {
	return Server{URL: url, Model: "test-model", Backoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}
}

func TestLoadAPIKey(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte("  file-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(DefaultAPIKeyEnv, " env-key ")
	t.Setenv("OTHER_KEY", "other")
	for _, tc := range []struct {
		file, env string
		want      Secret
	}{
		{file, "", "file-key"},
		{"", "", "env-key"},
		{"", "OTHER_KEY", "other"},
		{"", "UNSET_KEY_VARIABLE", ""},
	} {
		got, err := LoadAPIKey(tc.file, tc.env)
		if err != nil || got != tc.want {
			t.Errorf("LoadAPIKey(%q, %q) = %q, %v; want %q", tc.file, tc.env, got, err, tc.want)
		}
	}
	if _, err := LoadAPIKey(filepath.Join(dir, "absent"), ""); err == nil {
		t.Error("a missing key file was accepted")
	}
}

func TestServerCheck(t *testing.T) {
	if _, err := NewChat(ChatOptions{Server: Server{Model: "m"}}); err == nil {
		t.Error("no URL accepted")
	}
	if _, err := NewChat(ChatOptions{Server: Server{URL: "ftp://x", Model: "m"}}); err == nil {
		t.Error("an ftp URL accepted")
	}
	if _, err := NewListwise(ListwiseOptions{Server: Server{URL: "http://x/v1"}}); err == nil {
		t.Error("no model accepted")
	}
	if _, err := NewListwise(ListwiseOptions{Server: Server{URL: "http://x/v1", Model: "m"}, Window: 10, Step: 10}); err == nil {
		t.Error("a step as large as the window accepted")
	}
	if _, err := NewRerankAPI(RerankAPIOptions{Server: Server{URL: "http://x"}, Format: "jina"}); err == nil {
		t.Error("an unknown format accepted")
	}
	if _, err := NewRerankAPI(RerankAPIOptions{Server: Server{URL: "http://x"}, Format: FormatTEI}); err != nil {
		t.Errorf("TEI needs no model name: %v", err)
	}
}

// TestAPIKeySentNeverLogged checks the bearer token reaches the server and
// appears in no error and no log line, through retries and a refusal.
func TestAPIKeySentNeverLogged(t *testing.T) {
	const key = "sk-secret-4f9a"
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any, n int) {
		if n == 1 {
			writeJSON(w, 503, `{"error":{"message":"loading model","type":"ServiceUnavailable","code":503}}`)
			return
		}
		writeJSON(w, 401, `{"error":{"message":"invalid API key","type":"AuthenticationError","code":401}}`)
	})
	var logs bytes.Buffer
	s := quick(srv.v1())
	s.APIKey = key
	s.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := NewChat(ChatOptions{Server: s})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Rerank(context.Background(), "q", []searcher.Candidate{cand("a", "", "text")})
	if err == nil || !strings.Contains(err.Error(), "HTTP 401: invalid API key") {
		t.Fatalf("err = %v, want the server's 401 message", err)
	}
	for _, r := range srv.recorded() {
		if r.auth != "Bearer "+key {
			t.Errorf("Authorization = %q", r.auth)
		}
	}
	if len(srv.recorded()) != 2 {
		t.Errorf("%d requests, want 2: the 503 is retried, the 401 is not", len(srv.recorded()))
	}
	s.Logger.Info("options", "opts", c.opts, "server", s)
	printed := fmt.Sprintf("%v %+v %#v", c, c.opts, s)
	asJSON, _ := json.Marshal(map[string]any{"key": s.APIKey})
	if strings.Contains(err.Error(), key) || strings.Contains(logs.String(), key) || strings.Contains(printed, key) || strings.Contains(string(asJSON), key) {
		t.Errorf("the API key leaked: err %q, logs %q", err, logs.String())
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("the retry was not logged: %q", logs.String())
	}
}

func TestRetryAfterBeyondDeadlineFailsAtOnce(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any, _ int) {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, 429, `{"error":{"message":"rate limited"}}`)
	})
	s := quick(srv.v1())
	s.MaxBackoff = time.Minute
	c, err := NewChat(ChatOptions{Server: s})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// "no time left" is the client deciding not to wait for the Retry-After:
	// had it waited, the deadline would have ended the call instead.
	_, err = c.Rerank(ctx, "q", []searcher.Candidate{cand("a", "", "text")})
	if err == nil || !strings.Contains(err.Error(), "HTTP 429") || !strings.Contains(err.Error(), "no time left") {
		t.Errorf("err = %v, want the 429 and no retry", err)
	}
	if n := len(srv.recorded()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, `{"error":"Model is overloaded","error_type":"overloaded"}`)
			return
		}
		writeJSON(w, 200, `[{"index":0,"score":0.5}]`)
	})
	s := quick(srv.URL)
	s.MaxBackoff = 5 * time.Second
	r, err := NewRerankAPI(RerankAPIOptions{Server: s, Format: FormatTEI})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := r.Rerank(context.Background(), "q", []searcher.Candidate{cand("a", "", "x")})
	if err != nil || len(got) != 1 || got[0] != 0.5 {
		t.Fatalf("Rerank = %v, %v", got, err)
	}
	// A lower bound load cannot break: the client's timer for the
	// Retry-After starts after start, and load only makes it later.
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("retried after %s, before the server's Retry-After of 1s", d)
	}
}

func TestForEach(t *testing.T) {
	var inFlight, peak atomic.Int32
	err := forEach(context.Background(), 20, 3, func(context.Context, int) error {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		inFlight.Add(-1)
		return nil
	})
	if err != nil || peak.Load() > 3 {
		t.Errorf("err %v, peak %d in flight, want at most 3", err, peak.Load())
	}
	boom := errors.New("boom")
	var started atomic.Int32
	err = forEach(context.Background(), 100, 2, func(ctx context.Context, i int) error {
		started.Add(1)
		if i == 3 {
			return boom
		}
		<-time.After(time.Millisecond)
		return ctx.Err()
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the first failure", err)
	}
	if started.Load() > 10 {
		t.Errorf("%d calls started after a failure at call 3", started.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := forEach(ctx, 5, 2, func(ctx context.Context, _ int) error { return ctx.Err() }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled parent: err = %v", err)
	}
}
