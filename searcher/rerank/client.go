package rerank

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of the model-server re-rankers, in one place.
const (
	// DefaultURL is where Cari looks for the re-ranking server: one port
	// above the embedding server's default, since one vLLM process serves
	// one model.
	DefaultURL = "http://127.0.0.1:8001/v1"
	// DefaultModel is the production default re-ranker (DESIGN.md).
	DefaultModel = "Qwen/Qwen3-Reranker-0.6B"
	// DefaultAPIKeyEnv holds the server's API key when no key file is given.
	DefaultAPIKeyEnv = "CARI_RERANK_API_KEY"
	// DefaultTimeout bounds one attempt of one request. The searcher's
	// per-query deadline (searcher.RerankOptions.Timeout) bounds them all.
	DefaultTimeout    = 30 * time.Second
	DefaultMaxRetries = 2
	DefaultBackoff    = 100 * time.Millisecond
	DefaultMaxBackoff = 2 * time.Second
	// DefaultConcurrency caps the requests in flight for one query.
	DefaultConcurrency = 8
)

// maxResponseBytes bounds a response body; a re-ranking answer is small.
const maxResponseBytes = 16 << 20

// maxIdleConnsPerHost covers the requests in flight of a few concurrent
// queries.
const maxIdleConnsPerHost = 64

// Server says where a model server is and how to talk to it. The zero
// values of the optional fields take the defaults above.
type Server struct {
	// URL is the API root including /v1 (e.g. http://127.0.0.1:8001/v1);
	// for TEI's native API, the server's root (http://127.0.0.1:8080).
	URL string
	// Model is the served model's name, sent with every request.
	Model string
	// APIKey, if set, is sent as a bearer token. See LoadAPIKey.
	APIKey Secret
	// Timeout bounds one attempt of one request.
	Timeout time.Duration
	// MaxRetries bounds the retries of a request that failed with 408,
	// 429, 5xx or a network error; negative means none. Backoff is the
	// first retry's delay, doubled each retry up to MaxBackoff; a
	// Retry-After header overrides it. No retry starts that the context's
	// deadline would cut short.
	MaxRetries          int
	Backoff, MaxBackoff time.Duration
	// HTTPClient sends the requests (default: a client without a timeout
	// of its own).
	HTTPClient *http.Client
	// Logger receives retries and degraded answers; nil discards them.
	Logger *slog.Logger
}

func (s Server) withDefaults() Server {
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	switch {
	case s.MaxRetries == 0:
		s.MaxRetries = DefaultMaxRetries
	case s.MaxRetries < 0:
		s.MaxRetries = 0
	}
	if s.Backoff <= 0 {
		s.Backoff = DefaultBackoff
	}
	if s.MaxBackoff <= 0 {
		s.MaxBackoff = DefaultMaxBackoff
	}
	if s.HTTPClient == nil {
		// Keep a connection per request in flight: http.DefaultTransport
		// keeps 2 per host and would reconnect for every parallel
		// judgement.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		s.HTTPClient = &http.Client{Transport: t}
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// check refuses a server that cannot work; what names the re-ranker.
func (s Server) check(what string, needModel bool) error {
	if s.URL == "" {
		return fmt.Errorf("%s re-ranker: server URL is required", what)
	}
	if !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://") {
		return fmt.Errorf("%s re-ranker: server URL %q is not http(s)", what, s.URL)
	}
	if needModel && s.Model == "" {
		return fmt.Errorf("%s re-ranker: model name is required", what)
	}
	return nil
}

// Secret is a value that must not be logged: it prints, and marshals, as
// a mask, so that options holding it can be logged whole.
type Secret string

const secretMask = "********"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return secretMask
}

// GoString masks %#v too.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// MarshalText masks the secret in JSON and in structured logs.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LoadAPIKey reads the API key from file when one is named, else from the
// environment variable env (DefaultAPIKeyEnv when empty). No key is not an
// error: local servers rarely want one.
func LoadAPIKey(file, env string) (Secret, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("re-ranker API key: %w", err)
		}
		return Secret(strings.TrimSpace(string(b))), nil
	}
	if env == "" {
		env = DefaultAPIKeyEnv
	}
	return Secret(strings.TrimSpace(os.Getenv(env))), nil
}

// client sends JSON requests to one server with retries.
type client struct {
	srv  Server
	base string
}

func newClient(s Server) *client {
	s = s.withDefaults()
	return &client{srv: s, base: strings.TrimRight(s.URL, "/")}
}

// retryableError is a failure worth another attempt: 408, 429, 5xx, or
// the request got no answer.
type retryableError struct {
	err        error
	retryAfter time.Duration
}

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

// post sends body as JSON to path under the base URL and hands the
// successful answer to decode; a decode error is a malformed answer and is
// not retried. Errors from the context come back wrapped, so that callers
// can tell a deadline from a server failure.
func (c *client) post(ctx context.Context, path string, body any, decode func([]byte) error) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	endpoint := c.base + path
	for attempt := 0; ; attempt++ {
		data, err := c.attempt(ctx, endpoint, payload)
		if err == nil {
			if err := decode(data); err != nil {
				return fmt.Errorf("%s: malformed answer: %w", endpoint, err)
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", endpoint, context.Cause(ctx))
		}
		var re *retryableError
		if !errors.As(err, &re) || attempt >= c.srv.MaxRetries {
			return err
		}
		delay := c.backoff(attempt, re.retryAfter)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
			return fmt.Errorf("%w (no time left to retry after %s)", err, delay)
		}
		c.srv.Logger.Warn("re-ranking request failed; retrying", "err", err, "attempt", attempt+1, "delay", delay)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", endpoint, context.Cause(ctx))
		}
	}
}

// attempt sends one request and returns the body of a 200 answer.
func (c *client) attempt(ctx context.Context, endpoint string, payload []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.srv.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.srv.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+string(c.srv.APIKey))
	}
	resp, err := c.srv.HTTPClient.Do(req)
	if err != nil {
		return nil, &retryableError{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, &retryableError{err: fmt.Errorf("%s: read answer: %w", endpoint, err)}
	}
	if len(data) > maxResponseBytes {
		return nil, fmt.Errorf("%s: answer larger than %d bytes", endpoint, maxResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("%s: HTTP %d: %s", endpoint, resp.StatusCode, errorMessage(data))
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500 {
			return nil, &retryableError{err: err, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
		}
		return nil, err
	}
	return data, nil
}

// backoff is Backoff doubled per attempt, capped, or the server's
// Retry-After when it gave one (also capped).
func (c *client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, c.srv.MaxBackoff)
	}
	d := float64(c.srv.Backoff) * math.Pow(2, float64(attempt))
	return time.Duration(min(d, float64(c.srv.MaxBackoff)))
}

// errorMessage extracts a server's error message from the shapes of
// OpenAI, vLLM and llama.cpp ({"error": {"message"}}), TEI ({"error":
// "..."}), FastAPI ({"detail": ...}) and older vLLM ({"message"}), or the
// start of the body.
func errorMessage(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Detail  json.RawMessage `json:"detail"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil {
		var msg struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(e.Error, &msg) == nil && msg.Message != "":
			return msg.Message
		case json.Unmarshal(e.Error, &s) == nil && s != "":
			return s
		case len(e.Detail) > 0:
			return string(e.Detail)
		case e.Message != "":
			return e.Message // older vLLM: {"object": "error", "message"}
		}
	}
	const max = 300
	if len(body) > max {
		return string(body[:max]) + "..."
	}
	return string(body)
}

// parseRetryAfter reads a Retry-After header in seconds or as an HTTP date.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}

// forEach runs fn(ctx, i) for i in [0, n) with at most limit calls at once.
// The first failure cancels the calls still running and is returned; a
// cancelled parent context returns its error.
func forEach(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	fail := func(err error) {
		once.Do(func() {
			first = err
			cancel()
		})
	}
	sem := make(chan struct{}, max(1, limit))
	stopped := false
loop:
	for i := range n {
		if ctx.Err() != nil {
			stopped = true
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			stopped = true
			break loop
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	if stopped {
		return ctx.Err()
	}
	return nil
}
