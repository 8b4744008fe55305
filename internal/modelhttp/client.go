package modelhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Client sends JSON requests to one OpenAI-compatible model server, each
// retried as Retry says: the one client of that protocol, which the
// embedder, the re-rankers and the Exa answerer configure rather than
// repeat. It is safe for concurrent use.
type Client struct {
	// BaseURL is the API root (http://127.0.0.1:8001/v1, or TEI's root
	// for its native API); request paths are appended to it.
	BaseURL string
	// APIKey, if set, is sent as a bearer token.
	APIKey string
	// HTTPClient sends the requests (default: http.DefaultClient).
	HTTPClient *http.Client
	// Timeout, if positive, bounds each attempt of Post.
	Timeout time.Duration
	// Retry says which failures are tried again, and when.
	Retry Retry
}

// URL is the address of path on the server.
func (c *Client) URL(path string) string { return strings.TrimRight(c.BaseURL, "/") + path }

// Post sends body, as JSON, to path and returns the body of the 200
// answer, refusing one of more than maxBytes. Its errors name the URL,
// those of an ended ctx too (wrapping context.Cause).
func (c *Client) Post(ctx context.Context, path string, body any, maxBytes int64) ([]byte, error) {
	url := c.URL(path)
	payload, err := payloadOf(body)
	if err != nil {
		return nil, err
	}
	var data []byte
	err = c.Retry.Do(ctx, func() error {
		attemptCtx := ctx
		if c.Timeout > 0 {
			var cancel context.CancelFunc
			attemptCtx, cancel = context.WithTimeout(ctx, c.Timeout)
			defer cancel()
		}
		data, err = Post(attemptCtx, c.httpClient(), url, payload, c.APIKey, maxBytes)
		return err
	})
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", url, context.Cause(ctx))
	}
	return data, err
}

// Open sends body, as JSON, to path asking for accept (such as
// text/event-stream) and returns the 200 response, whose body the caller
// reads and closes; ctx bounds the reading too, and Timeout does not
// apply. Errors do not name the URL, so that they can be shown to whoever
// asked the caller; those of an ended ctx are context.Cause(ctx).
func (c *Client) Open(ctx context.Context, path string, body any, accept string) (*http.Response, error) {
	url := c.URL(path)
	payload, err := payloadOf(body)
	if err != nil {
		return nil, err
	}
	var resp *http.Response
	err = c.Retry.Do(ctx, func() error {
		req, err := NewRequest(ctx, url, payload, accept, c.APIKey)
		if err != nil {
			return err
		}
		resp, err = Send(c.httpClient(), req)
		return err
	})
	if err != nil && ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return resp, err
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient == nil {
		return http.DefaultClient
	}
	return c.HTTPClient
}

// payloadOf is body as JSON; a body already encoded ([]byte) is sent as
// it is, so that a caller can encode once for many requests.
func payloadOf(body any) ([]byte, error) {
	if b, ok := body.([]byte); ok {
		return b, nil
	}
	return json.Marshal(body)
}

// CheckServer checks the API root and model name that a client of a model
// server is configured with; callers say which client in front of the
// error.
func CheckServer(url, model string) error {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("server URL %q is not http(s)", url)
	}
	if model == "" {
		return errors.New("model name is required with a server URL")
	}
	return nil
}
