package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// maxResponseBytes bounds an Exa response read back for a tool: 100
// results with their whole texts fit well within it.
const maxResponseBytes = 64 << 20

// exaCaller posts a tool's request to one of Exa's endpoints.
type exaCaller struct {
	client *http.Client
	base   string // scheme and host, no trailing slash
	key    string // stdio's key; over HTTP each request brings its own
}

// exaError is Exa's error body.
type exaError struct {
	Error string `json:"error"`
	Tag   string `json:"tag"`
}

// post sends body to path and decodes the answer into out. An error Exa
// answers is returned in its words ("numResults: must be ..."), for the
// tool to show the model; the HTTP request of an MCP call (req) lends it
// its API key and client address.
func (e exaCaller) post(ctx context.Context, req *sdk.CallToolRequest, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, e.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	if e.key != "" {
		r.Header.Set("X-Api-Key", e.key)
	}
	if req != nil && req.Extra != nil && req.Extra.Header != nil {
		h := req.Extra.Header
		for _, k := range []string{"X-Api-Key", "Authorization"} {
			if v := h.Get(k); v != "" {
				r.Header.Set(k, v)
			}
		}
		if peer := h.Get(peerHeader); peer != "" {
			r.RemoteAddr = peer + ":0"
		}
	}
	resp, err := e.client.Do(r)
	if err != nil {
		return fmt.Errorf("call %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var ee exaError
		if json.Unmarshal(data, &ee) == nil && ee.Error != "" {
			return fmt.Errorf("%s (%s)", ee.Error, ee.Tag)
		}
		return fmt.Errorf("%s answered %s: %s", path, resp.Status, strings.TrimSpace(string(data)))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// handlerTransport answers requests with an in-process handler, so that a
// tool call on the serving port goes through Exa's endpoints without a
// trip over the network.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	if r.RemoteAddr == "" {
		r.RemoteAddr = "127.0.0.1:0"
	}
	r.RequestURI = r.URL.RequestURI()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}
