package rerank

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cari-search/cari/internal/modelhttp"
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
	// MaxRetries bounds the retries of a request that failed transiently
	// (modelhttp.Transient: 408, 429, 503, other 5xx without a permanent
	// cause, or a network error); negative means none. Backoff is the
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
	if env == "" {
		env = DefaultAPIKeyEnv
	}
	key, err := modelhttp.LoadAPIKey(file, env)
	if err != nil {
		return "", fmt.Errorf("re-ranker API key: %w", err)
	}
	return Secret(key), nil
}

// client sends JSON requests to one server with retries.
type client struct {
	srv  Server
	http modelhttp.Client
}

func newClient(s Server) *client {
	s = s.withDefaults()
	return &client{srv: s, http: modelhttp.Client{BaseURL: s.URL, APIKey: string(s.APIKey), HTTPClient: s.HTTPClient, Timeout: s.Timeout,
		Retry: modelhttp.Retry{MaxRetries: s.MaxRetries, FitDeadline: true,
			Delay: func(attempt int, retryAfter time.Duration) time.Duration {
				return modelhttp.Backoff(attempt, s.Backoff, s.MaxBackoff, retryAfter)
			},
			OnRetry: func(err error, attempt int, delay time.Duration) {
				s.Logger.Warn("re-ranking request failed; retrying", "err", err, "attempt", attempt+1, "delay", delay)
			}}}}
}

// post sends body as JSON to path under the base URL and hands the
// successful answer to decode; a decode error is a malformed answer and is
// not retried. Errors from the context come back wrapped, so that callers
// can tell a deadline from a server failure.
func (c *client) post(ctx context.Context, path string, body any, decode func([]byte) error) error {
	data, err := c.http.Post(ctx, path, body, maxResponseBytes)
	if err != nil {
		return err
	}
	if err := decode(data); err != nil {
		return fmt.Errorf("%s: malformed answer: %w", c.http.URL(path), err)
	}
	return nil
}

// get fetches path under the base URL, as post does, without retries:
// what it asks (which model is served) is worth one attempt.
func (c *client) get(ctx context.Context, path string, decode func([]byte) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.srv.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.http.URL(path), nil)
	if err != nil {
		return err
	}
	if c.srv.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+string(c.srv.APIKey))
	}
	resp, err := modelhttp.Send(c.srv.HTTPClient, req)
	if err != nil {
		return fmt.Errorf("%s: %w", req.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("%s: %w", req.URL, err)
	}
	if err := decode(data); err != nil {
		return fmt.Errorf("%s: malformed answer: %w", req.URL, err)
	}
	return nil
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
