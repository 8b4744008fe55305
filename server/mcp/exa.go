package mcp

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
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

// post sends body to one of Exa's endpoints and decodes the answer into
// out. An error Exa answers is returned in its words ("numResults: must be
// ..."), for the tool to show the model.
func (e exaCaller) post(ctx context.Context, req *sdk.CallToolRequest, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	data, err := e.do(ctx, extraOf(req), http.MethodPost, path, b)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// extraOf is the HTTP side of a tool call: nil over stdio.
func extraOf(req *sdk.CallToolRequest) *sdk.RequestExtra {
	if req == nil {
		return nil
	}
	return req.Extra
}

// do sends one request to the server's HTTP port and returns the body of
// a 200 answer; any other answer is an error in the server's words, Exa's
// ({"error", "tag"}) or /v1/'s ({"code", "message"}). The HTTP request of
// an MCP call (extra) lends it its API key and client address.
func (e exaCaller) do(ctx context.Context, extra *sdk.RequestExtra, method, path string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequestWithContext(ctx, method, e.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if e.key != "" {
		r.Header.Set("X-Api-Key", e.key)
	}
	if extra != nil && extra.Header != nil {
		h := extra.Header
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
		return nil, fmt.Errorf("call %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, answerError(path, resp.Status, data)
	}
	return data, nil
}

// answerError is the error of an answer other than 200, in the server's
// words where its body has them.
func answerError(path, httpStatus string, data []byte) error {
	var ee exaError
	if json.Unmarshal(data, &ee) == nil && ee.Error != "" {
		return fmt.Errorf("%s (%s)", ee.Error, ee.Tag)
	}
	// /v1/ answers a google.rpc.Status, a stream one inside {"error": ...}.
	var st struct {
		Message string `json:"message"`
		Error   struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(data, &st)
	if msg := cmp.Or(st.Message, st.Error.Message); msg != "" {
		return errors.New(msg)
	}
	return fmt.Errorf("%s answered %s: %s", path, httpStatus, strings.TrimSpace(string(data)))
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
	if r.Body == nil {
		r.Body = http.NoBody // as a server's request always has one
	}
	r.RequestURI = r.URL.RequestURI()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}
