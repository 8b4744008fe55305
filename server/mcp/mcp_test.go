package mcp_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/server"
	"github.com/cari-search/cari/server/internal/servertest"
	"github.com/cari-search/cari/server/mcp"
)

// searchKey is the API key of the servers that want one.
const searchKey = "mcp-test-search-key-0123456789"

// testServer is a whole cari serve on loopback: its HTTP port serves Exa's
// endpoints and /mcp.
type testServer struct {
	url     string
	handler http.Handler
}

// startServer runs the server over servertest.Docs, with searchKey as its
// only key when keyed.
func startServer(t *testing.T, keyed bool) *testServer {
	t.Helper()
	return startGuarded(t, keyed, server.GuardOptions{})
}

// startGuarded runs the server with the limits of g.
func startGuarded(t *testing.T, keyed bool, g server.GuardOptions) *testServer {
	t.Helper()
	if keyed {
		g.Keys = []server.Key{{Secret: searchKey, Scope: server.ScopeSearch}}
	}
	return startConfigured(t, g, nil)
}

// startConfigured runs the server with guard g and the options configure
// sets.
func startConfigured(t *testing.T, g server.GuardOptions, configure func(*server.Options)) *testServer {
	t.Helper()
	st := servertest.Store(t)
	guard, err := server.NewGuard(g)
	if err != nil {
		t.Fatal(err)
	}
	opts := server.Options{Searcher: searcher.New(st, searcher.Options{}), Store: st, StoreName: "local",
		Logger: slog.New(slog.DiscardHandler), Guard: guard}
	if configure != nil {
		configure(&opts)
	}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the store closes after the server stops.
	t.Cleanup(func() { st.Close() })
	url := servertest.Serve(t, srv.Serve, srv.Shutdown)
	return &testServer{url: url, handler: srv.Handler()}
}

// keyTransport sends an API key with every request.
type keyTransport struct{ key string }

func (k keyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Api-Key", k.key)
	return http.DefaultTransport.RoundTrip(r)
}

// connectHTTP opens an MCP session with the server's /mcp, sending key
// unless it is empty.
func connectHTTP(t *testing.T, ts *testServer, key string) (*sdk.ClientSession, error) {
	t.Helper()
	hc := &http.Client{Transport: http.DefaultTransport}
	if key != "" {
		hc.Transport = keyTransport{key}
	}
	c := sdk.NewClient(&sdk.Implementation{Name: "cari-test", Version: "v0"}, nil)
	cs, err := c.Connect(t.Context(), &sdk.StreamableClientTransport{Endpoint: ts.url + mcp.Path, HTTPClient: hc, MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	if err == nil {
		t.Cleanup(func() { _ = cs.Close() })
	}
	return cs, err
}

// connectMemory runs a Server with opts over an in-memory transport, as
// cari mcp runs one over stdio, and opens a session with it.
func connectMemory(t *testing.T, opts mcp.Options) *sdk.ClientSession {
	t.Helper()
	s, err := mcp.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	st, ct := sdk.NewInMemoryTransports()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, st) }()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "cari-test", Version: "v0"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.Close()
		cancel()
		<-done
	})
	return cs
}

// sessions are the ways an agent reaches the tools: streamable HTTP on the
// serving port, and a stdio server (in memory here) over Exa's endpoints
// in-process or over HTTP to a running server.
func sessions(t *testing.T) map[string]*sdk.ClientSession {
	return keyedSessions(t, startServer(t, true), searchKey)
}

// keyedSessions are sessions with key over each transport.
func keyedSessions(t *testing.T, ts *testServer, key string) map[string]*sdk.ClientSession {
	t.Helper()
	cs, err := connectHTTP(t, ts, key)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*sdk.ClientSession{
		"http":         cs,
		"stdio-data":   connectMemory(t, mcp.Options{Exa: ts.handler, APIKey: key}),
		"stdio-server": connectMemory(t, mcp.Options{BaseURL: ts.url, APIKey: key}),
	}
}

func TestListTools(t *testing.T) {
	for name, cs := range sessions(t) {
		t.Run(name, func(t *testing.T) {
			res, err := cs.ListTools(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range res.Tools {
				names = append(names, tool.Name)
				if len(tool.Description) < 80 {
					t.Errorf("%s: description %q is too short for a model to choose by", tool.Name, tool.Description)
				}
				if tool.InputSchema == nil || tool.OutputSchema == nil {
					t.Errorf("%s: input schema %v, output schema %v; want both", tool.Name, tool.InputSchema, tool.OutputSchema)
				}
			}
			if got, want := strings.Join(names, ","), "answer,collections,contents,crawl,find_similar,search"; got != want {
				t.Errorf("tools %s, want %s", got, want)
			}
		})
	}
}

// call calls a tool and fails the test on a protocol error.
func call(t *testing.T, cs *sdk.ClientSession, tool string, args map[string]any) *sdk.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s(%v): %v", tool, args, err)
	}
	return res
}

// text is a result's text content.
func text(res *sdk.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func TestCallEachTool(t *testing.T) {
	cases := []struct {
		tool string
		args map[string]any
		// want are found in the text, and in the structured content
		// re-encoded as JSON.
		want []string
	}{
		{"search", map[string]any{"query": "volcano eruption magma", "type": "keyword", "numResults": 2}, []string{"https://geo.example.com/volcano", "How volcanoes erupt"}},
		{"search", map[string]any{"query": "volcano", "type": "keyword", "includeDomains": []string{"news.example.com"}}, []string{"https://news.example.com/merapi"}},
		{"search", map[string]any{"query": "volcano", "type": "keyword", "startPublishedDate": "2022-01-01"}, []string{"Merapi erupts again"}},
		{"contents", map[string]any{"urls": []string{"https://music.example.org/jazz"}}, []string{"Jazz grew out of blues and ragtime"}},
		{"find_similar", map[string]any{"url": "https://geo.example.com/volcano", "numResults": 3}, []string{"https://"}},
		{"answer", map[string]any{"query": "Why does a volcano erupt?"}, []string{"[1]", "https://"}},
	}
	for name, cs := range sessions(t) {
		for _, c := range cases {
			t.Run(name+"/"+c.tool, func(t *testing.T) {
				res := call(t, cs, c.tool, c.args)
				if res.IsError {
					t.Fatalf("tool error: %s", text(res))
				}
				if res.StructuredContent == nil {
					t.Fatal("no structured content")
				}
				for _, w := range c.want {
					if !strings.Contains(text(res), w) {
						t.Errorf("text lacks %q:\n%s", w, text(res))
					}
				}
			})
		}
	}
}

func TestSearchFiltersApply(t *testing.T) {
	cs := sessions(t)["http"]
	res := call(t, cs, "search", map[string]any{"query": "volcano", "type": "keyword", "excludeDomains": []string{"news.example.com"}})
	if strings.Contains(text(res), "news.example.com") {
		t.Errorf("excludeDomains ignored:\n%s", text(res))
	}
	res = call(t, cs, "search", map[string]any{"query": "volcano", "type": "keyword", "endPublishedDate": "2022-01-01"})
	if strings.Contains(text(res), "Merapi") {
		t.Errorf("endPublishedDate ignored:\n%s", text(res))
	}
}

// A bad argument is a tool error that names it, for the model to correct
// its call; not a protocol error.
func TestBadArgumentNamesIt(t *testing.T) {
	cases := []struct {
		tool  string
		args  map[string]any
		field string
	}{
		{"search", map[string]any{"query": "volcano", "type": "semantic"}, "type"},
		{"search", map[string]any{"query": "volcano", "numResults": -1}, "numResults"},
		{"search", map[string]any{"query": "volcano", "startPublishedDate": "last year"}, "startPublishedDate"},
		{"search", map[string]any{"query": ""}, "query"},
		{"search", map[string]any{"query": "volcano", "numResults": "ten"}, "numResults"},
		{"search", map[string]any{"query": "volcano", "numResults": 1000}, "numResults"},
		{"contents", map[string]any{"urls": []string{}}, "urls"},
		{"find_similar", map[string]any{"url": ""}, "url"},
		{"answer", map[string]any{"query": " "}, "query"},
	}
	for name, cs := range sessions(t) {
		for _, c := range cases {
			t.Run(name+"/"+c.tool+"/"+c.field, func(t *testing.T) {
				res := call(t, cs, c.tool, c.args)
				if !res.IsError || !strings.Contains(text(res), c.field) {
					t.Errorf("isError %v, text %q; want an error naming %s", res.IsError, text(res), c.field)
				}
			})
		}
	}
}

func TestMissingKeyRefused(t *testing.T) {
	ts := startServer(t, true)
	for _, key := range []string{"", "wrong-key-0123456789abcdef"} {
		if _, err := connectHTTP(t, ts, key); err == nil || !strings.Contains(err.Error(), "401") && !strings.Contains(strings.ToLower(err.Error()), "unauthorized") {
			t.Errorf("key %q: connect error %v; want 401", key, err)
		}
	}
	cs := connectMemory(t, mcp.Options{BaseURL: ts.url})
	res := call(t, cs, "search", map[string]any{"query": "volcano"})
	if !res.IsError || !strings.Contains(text(res), "API key") {
		t.Errorf("stdio without a key: isError %v, text %q; want an API key error", res.IsError, text(res))
	}
}

// A tool call draws on the key's rate limit as any other request does.
func TestRateLimitApplies(t *testing.T) {
	ts := startGuarded(t, true, server.GuardOptions{Rate: 0.001, Burst: 1})
	cs, err := connectHTTP(t, ts, searchKey)
	if err != nil {
		t.Fatal(err)
	}
	if res := call(t, cs, "search", map[string]any{"query": "jazz", "type": "keyword"}); res.IsError {
		t.Fatalf("first call: %s", text(res))
	}
	res := call(t, cs, "search", map[string]any{"query": "jazz", "type": "keyword"})
	if !res.IsError || !strings.Contains(text(res), "RATE_LIMIT_EXCEEDED") {
		t.Errorf("second call within the burst of 1: isError %v, text %q; want RATE_LIMIT_EXCEEDED", res.IsError, text(res))
	}
}

func TestOpenServerNeedsNoKey(t *testing.T) {
	ts := startServer(t, false)
	cs, err := connectHTTP(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	if res := call(t, cs, "search", map[string]any{"query": "jazz", "type": "keyword"}); res.IsError {
		t.Fatal(text(res))
	}
}

func TestNewNeedsATarget(t *testing.T) {
	if _, err := mcp.New(mcp.Options{}); err == nil {
		t.Error("New with neither Exa nor BaseURL: no error")
	}
	if _, err := mcp.New(mcp.Options{BaseURL: "127.0.0.1:8080"}); err == nil || !strings.Contains(err.Error(), "http://") {
		t.Errorf("BaseURL without a scheme: error %v; want one naming http://", err)
	}
}

// A server with keys sits behind a proxy that may pass the public host
// name on; one without keys keeps the SDK's guard against DNS rebinding.
func TestHostHeader(t *testing.T) {
	for _, keyed := range []bool{true, false} {
		ts := startServer(t, keyed)
		req, err := http.NewRequestWithContext(t.Context(), "POST", ts.url+mcp.Path, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "search.example.org"
		req.Header.Set("X-Api-Key", searchKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{true: http.StatusOK, false: http.StatusForbidden}[keyed]; resp.StatusCode != want {
			t.Errorf("keyed %v: Host search.example.org answered %d, want %d", keyed, resp.StatusCode, want)
		}
	}
}
