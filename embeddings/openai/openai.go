// Package openai embeds text with any server that speaks the OpenAI
// embeddings protocol (POST /v1/embeddings): vLLM, Hugging Face TEI,
// llama.cpp's server, Ollama, Infinity. It batches by count and by
// estimated tokens, retries throttled and failed requests with
// exponential backoff, and checks every response before trusting it.
package openai

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/cari-search/cari/internal/modelhttp"
)

// Options configure a Client. BaseURL and Model are required.
type Options struct {
	// BaseURL is the API root including /v1, e.g. http://127.0.0.1:8000/v1.
	BaseURL string
	// Model is the model name the server serves.
	Model string
	// APIKey, if set, is sent as a bearer token.
	APIKey string
	// Dimensions, if set, is sent as the "dimensions" parameter (unless
	// LocalTruncate), and longer vectors that come back are cut to it and
	// re-normalised.
	Dimensions    int
	LocalTruncate bool
	// MaxBatchSize and MaxBatchTokens cap one request's inputs and their
	// estimated tokens; defaults 32 and 8192.
	MaxBatchSize   int
	MaxBatchTokens int
	// Timeout bounds one attempt of one request (default 60s).
	Timeout time.Duration
	// MaxRetries bounds the retries of one request (default 0: none).
	MaxRetries int
	// Backoff is the first retry's delay, doubled each retry up to
	// MaxBackoff (defaults 500ms and 30s); a Retry-After header overrides.
	Backoff, MaxBackoff time.Duration
	// HTTPClient sends the requests (default: a client without timeout of
	// its own, Timeout applying per attempt).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Client embeds text through one server and model. It is safe for
// concurrent use.
type Client struct {
	opts Options
	http modelhttp.Client
}

// New checks opts and returns a client; it sends nothing.
func New(opts Options) (*Client, error) {
	if opts.BaseURL == "" || opts.Model == "" {
		return nil, errors.New("openai embedder: base URL and model are required")
	}
	if !strings.HasPrefix(opts.BaseURL, "http://") && !strings.HasPrefix(opts.BaseURL, "https://") {
		return nil, fmt.Errorf("openai embedder: base URL %q is not http(s)", opts.BaseURL)
	}
	if opts.MaxBatchSize <= 0 {
		opts.MaxBatchSize = 32
	}
	if opts.MaxBatchTokens <= 0 {
		opts.MaxBatchTokens = 8192
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{opts: opts}
	c.http = modelhttp.Client{BaseURL: opts.BaseURL, APIKey: opts.APIKey, HTTPClient: opts.HTTPClient, Timeout: opts.Timeout,
		Retry: modelhttp.Retry{MaxRetries: opts.MaxRetries, Delay: c.backoff,
			OnRetry: func(err error, attempt int, delay time.Duration) {
				opts.Logger.Warn("embedding request failed; retrying", "err", err, "attempt", attempt+1, "delay", delay)
			}}}
	return c, nil
}

// Embed returns one vector per text, in order, in as many requests as the
// batch limits require (sent one after another).
func (c *Client) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for _, b := range c.batches(texts) {
		vecs, err := c.embedBatch(ctx, texts[b.start:b.end])
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// span is a batch: texts[start:end].
type span struct{ start, end int }

// batches splits texts so that no request has more than MaxBatchSize
// inputs or, unless a single text is that long, more than MaxBatchTokens
// estimated tokens.
func (c *Client) batches(texts []string) []span {
	var out []span
	start, tokens := 0, 0
	for i, t := range texts {
		n := EstimateTokens(t)
		if i > start && (i-start == c.opts.MaxBatchSize || tokens+n > c.opts.MaxBatchTokens) {
			out = append(out, span{start, i})
			start, tokens = i, 0
		}
		tokens += n
	}
	if start < len(texts) {
		out = append(out, span{start, len(texts)})
	}
	return out
}

// EstimateTokens is a cautious guess of a text's tokens without the
// model's tokenizer: one per 3 bytes (English averages about 4 bytes a
// token with the BPE vocabularies of Qwen and OpenAI), at least 1.
func EstimateTokens(text string) int { return len(text)/3 + 1 }

// embedBatch sends one request, retrying what is worth retrying.
func (c *Client) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	body, err := c.requestBody(texts)
	if err != nil {
		return nil, err
	}
	data, err := c.http.Post(ctx, embeddingsPath, body, maxResponseBytes)
	if err != nil {
		return nil, err
	}
	vecs, err := decodeResponse(data, len(texts))
	if err != nil {
		return nil, fmt.Errorf("%s: malformed response: %w", c.http.URL(embeddingsPath), err)
	}
	return c.fitDimensions(vecs)
}

// backoff is Backoff doubled per attempt, capped, or the server's
// Retry-After when it gave one (also capped).
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	return modelhttp.Backoff(attempt, c.opts.Backoff, c.opts.MaxBackoff, retryAfter)
}

// fitDimensions cuts vectors longer than Options.Dimensions (Matryoshka
// truncation) and re-normalises them; shorter ones are an error.
func (c *Client) fitDimensions(vecs [][]float32) ([][]float32, error) {
	want := c.opts.Dimensions
	if want == 0 {
		return vecs, nil
	}
	for i, v := range vecs {
		if len(v) < want {
			return nil, fmt.Errorf("server returned %d dimensions, fewer than the %d asked for", len(v), want)
		}
		if len(v) > want {
			vecs[i] = unit(v[:want])
		}
	}
	return vecs, nil
}

// unit scales v to length 1 in place.
func unit(v []float32) []float32 {
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	if norm > 0 {
		inv := 1 / math.Sqrt(norm)
		for i, x := range v {
			v[i] = float32(float64(x) * inv)
		}
	}
	return v
}
