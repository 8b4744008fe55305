package modelhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestErrorMessage(t *testing.T) {
	long := strings.Repeat("é", 400)
	tests := []struct{ body, want string }{
		{`{"error": {"message": "busy", "type": "server_error"}}`, "busy"},
		{`{"error": "batch size 64 > maximum allowed batch size 32"}`, "batch size 64 > maximum allowed batch size 32"},
		{`{"detail": "Not Found"}`, `"Not Found"`},
		{`{"object": "error", "message": "CUDA out of memory"}`, "CUDA out of memory"},
		{"unauthorized\n", "unauthorized"},
		{long, strings.Repeat("é", 300) + "…"},
	}
	for _, tt := range tests {
		if got := ErrorMessage([]byte(tt.body)); got != tt.want {
			t.Errorf("ErrorMessage(%.40q) = %.40q, want %.40q", tt.body, got, tt.want)
		}
	}
}

func TestBackoffAndRetryAfter(t *testing.T) {
	for attempt, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second} {
		if got := Backoff(attempt, 100*time.Millisecond, time.Second, 0); got != want {
			t.Errorf("attempt %d: %v, want %v", attempt, got, want)
		}
	}
	if got := Backoff(0, 100*time.Millisecond, time.Second, 3*time.Second); got != time.Second {
		t.Errorf("Retry-After beyond the cap: %v", got)
	}
	if got := RetryAfter("7"); got != 7*time.Second {
		t.Errorf(`RetryAfter("7") = %v`, got)
	}
	if got := RetryAfter(time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)); got < 59*time.Minute || got > time.Hour {
		t.Errorf("RetryAfter(an hour from now) = %v", got)
	}
	for _, v := range []string{"", "soon", "-3"} {
		if got := RetryAfter(v); got != 0 {
			t.Errorf("RetryAfter(%q) = %v, want 0", v, got)
		}
	}
}

// TestPostRetries sends through Retry.Do to a server that throttles once
// with Retry-After, then refuses the key, and checks the attempts, the
// delay asked for, the bearer token and the errors.
func TestPostRetries(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.Header.Get("Authorization") != "Bearer k" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", r.Header)
		}
		switch {
		case r.URL.Path == "/big":
			fmt.Fprint(w, `{"ok":true}`)
		case calls == 1:
			w.Header().Set("Retry-After", "2")
			http.Error(w, `{"error":{"message":"slow down"}}`, http.StatusTooManyRequests)
		case calls == 2:
			fmt.Fprint(w, `{"ok":true}`)
		default:
			http.Error(w, `{"error":{"message":"invalid API key"}}`, http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	var delays []time.Duration
	r := Retry{MaxRetries: 3,
		Delay:   func(_ int, retryAfter time.Duration) time.Duration { return retryAfter / 1000 },
		OnRetry: func(_ error, _ int, d time.Duration) { delays = append(delays, d) }}
	var body []byte
	err := r.Do(context.Background(), func() (err error) {
		body, err = Post(context.Background(), srv.Client(), srv.URL, []byte(`{}`), "k", 100)
		return err
	})
	if err != nil || string(body) != `{"ok":true}` || calls != 2 || len(delays) != 1 || delays[0] != 2*time.Millisecond {
		t.Fatalf("got %q, %v after %d calls, delays %v", body, err, calls, delays)
	}
	err = r.Do(context.Background(), func() error {
		_, err := Post(context.Background(), srv.Client(), srv.URL, []byte(`{}`), "k", 100)
		return err
	})
	if calls != 3 || err == nil || err.Error() != srv.URL+": HTTP 401: invalid API key" {
		t.Errorf("401: %v after %d calls, want no retry", err, calls)
	}
	_, err = Post(context.Background(), srv.Client(), srv.URL+"/big", []byte(`{}`), "k", 5)
	if err == nil || !strings.Contains(err.Error(), "answer larger than 5 bytes") {
		t.Errorf("over the limit: %v", err)
	}
}

func TestRetryDeadline(t *testing.T) {
	fail := &RetryableError{Err: errors.New("HTTP 503: loading")}
	r := Retry{MaxRetries: 5, FitDeadline: true, Delay: func(int, time.Duration) time.Duration { return time.Hour }}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := 0
	err := r.Do(ctx, func() error { n++; return fail })
	if n != 1 || !errors.Is(err, fail) || !strings.Contains(err.Error(), "no time left to retry") {
		t.Errorf("FitDeadline: %v after %d attempts", err, n)
	}
	// Without FitDeadline the wait ends with the context.
	r.FitDeadline = false
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := r.Do(ctx, func() error { return fail }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled during the wait: %v", err)
	}
}

// TestClient checks what Client adds to Post and Send: the base URL and
// path, a timeout per attempt that a retry gets afresh, errors of an
// ended context that name the URL (Post) or not (Open).
func TestClient(t *testing.T) {
	var calls atomic.Int32
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.URL.Path != "/v1/chat/completions" {
			t.Errorf("path %s", r.URL.Path)
		}
		if n == 1 {
			<-stop // the first attempt times out
			return
		}
		fmt.Fprint(w, `{"choices":[{"message":{"content":"hi"}}]}`)
	}))
	defer srv.Close()
	defer close(stop)
	c := Client{BaseURL: srv.URL + "/v1/", HTTPClient: srv.Client(), Timeout: 50 * time.Millisecond,
		Retry: Retry{MaxRetries: 1, Delay: func(int, time.Duration) time.Duration { return 0 }}}
	data, err := c.Post(context.Background(), "/chat/completions", ChatRequest{Model: "m"}, 1<<10)
	var cc ChatCompletion
	if err != nil || calls.Load() != 2 || json.Unmarshal(data, &cc) != nil {
		t.Fatalf("got %q, %v after %d calls", data, err, calls.Load())
	}
	if text, ok := cc.Content(); !ok || text != "hi" {
		t.Errorf("Content() = %q, %v", text, ok)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Post(ctx, "/chat/completions", []byte(`{}`), 1<<10); !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), srv.URL) {
		t.Errorf("Post, cancelled: %v, want context.Canceled naming the URL", err)
	}
	if _, err := c.Open(ctx, "/chat/completions", []byte(`{}`), "text/event-stream"); err != context.Canceled {
		t.Errorf("Open, cancelled: %v, want context.Canceled alone", err)
	}
}

func TestReadChatStream(t *testing.T) {
	chunk := func(s string) string {
		return fmt.Sprintf(`data: {"choices":[{"index":0,"delta":{"content":%q}}]}`+"\n\n", s)
	}
	for _, tc := range []struct {
		name, body, want, err string
	}{
		{"done", ": comment\n\n" + chunk("Mag") + chunk("ma") + "data: [DONE]\n\n", "Magma", ""},
		{"no done", chunk("Magma"), "Magma", ""},
		{"empty", "", "", "ended without an answer"},
		{"malformed", chunk("Mag") + "data: {oops\n\n", "Mag", "malformed stream event"},
		{"error event", chunk("Mag") + `data: {"error":{"message":"overloaded"}}` + "\n\n", "Mag", "stream error: overloaded"},
		// vLLM before 0.10.1 (vllm-project/vllm
		// vllm/entrypoints/openai/serving_chat.py,
		// create_streaming_error_response) sends a flat error, then [DONE].
		{"flat error event", chunk("Mag") + `data: {"object":"error","message":"CUDA out of memory","type":"InternalServerError","param":null,"code":500}` + "\n\ndata: [DONE]\n\n", "Mag", "stream error: CUDA out of memory"},
	} {
		var pieces []string
		got, err := ReadChatStream(context.Background(), strings.NewReader(tc.body), func(p string) { pieces = append(pieces, p) })
		if got != tc.want || strings.Join(pieces, "") != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %q (pieces %q), %v; want %q and an error saying %q", tc.name, got, pieces, err, tc.want, tc.err)
		}
	}
}

// TestTransient sends the failures real servers answer with and checks
// which are tried again and which say what to change. The bodies are the
// servers' own: llama.cpp's format_error_response (ggml-org/llama.cpp
// tools/server/), TEI's {"error", "error_type"}
// (huggingface/text-embeddings-inference router/src/http/server.rs) and
// vLLM's ErrorResponse (vllm-project/vllm
// vllm/entrypoints/openai/protocol.py).
func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		calls  int
		hint   string
	}{
		{"llama.cpp input longer than -ub", 500, `{"error":{"code":500,"message":"input (5567 tokens) is too large to process. increase the physical batch size (current batch size: 512)","type":"server_error"}}`, 1, "-ub"},
		{"llama.cpp without --embeddings", 501, `{"error":{"code":501,"message":"This server does not support embeddings. Start it with ` + "`--embeddings`" + `","type":"not_supported_error"}}`, 1, "--embeddings"},
		{"llama.cpp without --reranking", 501, `{"error":{"code":501,"message":"This server does not support reranking. Start it with ` + "`--reranking`" + `","type":"not_supported_error"}}`, 1, "--reranking"},
		{"vLLM dimensions without Matryoshka", 400, `{"object":"error","message":"Model \"Qwen/Qwen3-Embedding-0.6B\" does not support matryoshka representation, changing output dimensions will lead to poor results.","type":"BadRequestError","param":null,"code":400}`, 1, "is_matryoshka"},
		{"TEI overloaded", 429, `{"error":"Model is overloaded","error_type":"overloaded"}`, 3, ""},
		{"loading", 503, `{"error":"Model is loading"}`, 3, ""},
		{"crash", 500, `{"error":{"message":"CUDA error","type":"server_error"}}`, 3, ""},
		{"bad gateway", 502, `<html>bad gateway</html>`, 3, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			c := Client{BaseURL: srv.URL, HTTPClient: srv.Client(),
				Retry: Retry{MaxRetries: 2, Delay: func(int, time.Duration) time.Duration { return 0 }}}
			_, err := c.Post(context.Background(), "/x", []byte(`{}`), 1<<10)
			if err == nil || calls != tc.calls {
				t.Fatalf("%v after %d calls, want a failure after %d", err, calls, tc.calls)
			}
			if tc.hint != "" && !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("error %q does not say what to change (%s)", err, tc.hint)
			}
		})
	}
}
