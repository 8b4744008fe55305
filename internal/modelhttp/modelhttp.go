// Package modelhttp is Cari's one client of OpenAI-compatible model
// servers (vLLM, TEI, llama.cpp, SGLang, Ollama), which the embedder in
// embeddings/openai, the re-rankers in searcher/rerank and the answerer in
// server/exa configure rather than repeat: Client, one JSON POST with a
// bearer token, retried when the failure is worth another attempt (Retry,
// Backoff, Retry-After); the /v1/chat/completions request and answer
// (ChatRequest, ChatCompletion, ReadChatStream); and the message to quote
// from an error body (ErrorMessage).
package modelhttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"
)

// maxErrorBytes bounds what is read of a failed answer's body: enough for
// any server's JSON error, of which ErrorMessage quotes 300 characters.
const maxErrorBytes = 64 << 10

// RetryableError is a failure worth another attempt (see Transient), or
// the request got no answer. RetryAfter is the server's Retry-After, if any.
type RetryableError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *RetryableError) Error() string { return e.Err.Error() }
func (e *RetryableError) Unwrap() error { return e.Err }

// NewRequest returns a POST of the JSON payload to url that accepts accept
// and carries apiKey, if set, as a bearer token.
func NewRequest(ctx context.Context, url string, payload []byte, accept, apiKey string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	return req, nil
}

// Send sends req and returns a 200 response, whose body the caller closes.
// Any other status is an error "HTTP <code>: <ErrorMessage> (<what to
// change>)", a *RetryableError when Transient says so, as is a request
// that got no answer.
func Send(c *http.Client, req *http.Request) (*http.Response, error) {
	return send(c, req, "")
}

// send is Send with prefix before the status error.
func send(c *http.Client, req *http.Request, prefix string) (*http.Response, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, &RetryableError{Err: err}
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	msg := ErrorMessage(data)
	transient, hint := Transient(resp.StatusCode, msg)
	if hint != "" {
		msg += " (" + hint + ")"
	}
	err = fmt.Errorf("%sHTTP %d: %s", prefix, resp.StatusCode, msg)
	if transient {
		return nil, &RetryableError{Err: err, RetryAfter: RetryAfter(resp.Header.Get("Retry-After"))}
	}
	return nil, err
}

// Post sends the JSON payload to url, as Send does, and returns the body of
// the 200 answer, refusing one of more than maxBytes. Its errors name url
// (the HTTP client's own do already); a body cut off in transit is
// retryable.
func Post(ctx context.Context, c *http.Client, url string, payload []byte, apiKey string, maxBytes int64) ([]byte, error) {
	req, err := NewRequest(ctx, url, payload, "application/json", apiKey)
	if err != nil {
		return nil, err
	}
	resp, err := send(c, req, url+": ")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, &RetryableError{Err: fmt.Errorf("%s: read answer: %w", url, err)}
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%s: answer larger than %d bytes", url, maxBytes)
	}
	return data, nil
}

// Retry says how a client retries a request.
type Retry struct {
	// MaxRetries bounds the attempts after the first.
	MaxRetries int
	// Delay is the wait before retry attempt+1 (attempt counts from 0),
	// given the server's Retry-After (0 when it gave none).
	Delay func(attempt int, retryAfter time.Duration) time.Duration
	// FitDeadline gives up, returning the failure, rather than wait past
	// the context's deadline.
	FitDeadline bool
	// OnRetry, if set, hears of each retry before its wait.
	OnRetry func(err error, attempt int, delay time.Duration)
}

// Do calls attempt until it succeeds, fails with an error that is not a
// *RetryableError, the retries are spent or ctx ends. It returns nil, the
// last failure, or context.Cause(ctx) when ctx ended during a wait.
// Callers that report an ended context their own way check ctx.Err() when
// Do fails.
func (r Retry) Do(ctx context.Context, attempt func() error) error {
	for n := 0; ; n++ {
		err := attempt()
		var re *RetryableError
		if err == nil || ctx.Err() != nil || !errors.As(err, &re) || n >= r.MaxRetries {
			return err
		}
		delay := r.Delay(n, re.RetryAfter)
		if deadline, ok := ctx.Deadline(); r.FitDeadline && ok && time.Until(deadline) < delay {
			return &noTimeError{err, delay}
		}
		if r.OnRetry != nil {
			r.OnRetry(err, n, delay)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// noTimeError is a retryable failure that the deadline left no time to
// retry.
type noTimeError struct {
	err   error
	delay time.Duration
}

func (e *noTimeError) Error() string {
	return fmt.Sprintf("%v (no time left to retry after %s)", e.err, e.delay)
}
func (e *noTimeError) Unwrap() error { return e.err }

// Backoff is first doubled per attempt (counting from 0) up to limit, or
// retryAfter, the server's wish, when it gave one (also at most limit).
func Backoff(attempt int, first, limit, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, limit)
	}
	d := float64(first) * math.Pow(2, float64(attempt))
	return time.Duration(min(d, float64(limit)))
}

// RetryAfter reads a Retry-After header in seconds or as an HTTP date; 0
// when absent or unreadable.
func RetryAfter(v string) time.Duration {
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
