package main

// The MCP end-to-end tests: the real binary's cari mcp, started as an agent
// starts it (a subprocess on stdio), over a data directory and over a
// running cari serve with API keys, driven by the Go SDK's own client; and
// /mcp and cari mcp driven by the official TypeScript SDK's client
// (test/mcp, pinned in its lock file).

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cari-search/cari/internal/sitetest"
)

// mcpSession starts cari mcp with args and env (added to cariEnv) and opens
// an MCP session with it.
func mcpSession(t *testing.T, env []string, args ...string) *sdk.ClientSession {
	t.Helper()
	cmd := exec.Command(cariBinary(t), append([]string{"mcp"}, args...)...)
	cmd.Env = append(cariEnv(), env...)
	cmd.Stderr = os.Stderr
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "cari-e2e", Version: "v0"}, nil).Connect(t.Context(), &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("cari mcp %s: %v", strings.Join(args, " "), err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// mcpSearch calls the search tool and returns its text, failing on a tool
// error.
func mcpSearch(t *testing.T, cs *sdk.ClientSession, args map[string]any) string {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: "search", Arguments: args})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	if res.IsError {
		t.Fatalf("search %v: tool error %s", args, b.String())
	}
	return b.String()
}

func TestMCPStdioEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real cari binary; skipped with -short")
	}
	t.Run("data", func(t *testing.T) {
		data := t.TempDir()
		mustCari(t, "index", "--data", data, "--corpus", fixture("corpus.jsonl"), "--max-malformed", fixtureMaxMalformed)
		cs := mcpSession(t, nil, "--data", data, "--crawl-allow-private", "--crawl-contact", "https://example.org/bot", "--crawl-min-host-delay", "0")
		tools, err := cs.ListTools(t.Context(), nil)
		if err != nil || len(tools.Tools) != 6 {
			t.Fatalf("tools/list: %v, %v; want 6 tools", tools, err)
		}
		if got := mcpSearch(t, cs, map[string]any{"query": "volcano eruption", "type": "keyword"}); !strings.Contains(got, "How volcanoes erupt") {
			t.Errorf("search over --data:\n%s\nwant How volcanoes erupt", got)
		}
		// Over a data directory the crawl runs in cari mcp itself, with
		// serve's crawl flags and no key.
		site := sitetest.Serve(t, sitetest.Lighthouses)
		res, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: "crawl", Arguments: map[string]any{"seeds": []string{site + "/"}, "allowPrivate": true}})
		if err != nil {
			t.Fatal(err)
		}
		if out, _ := res.StructuredContent.(map[string]any); res.IsError || out["indexed"] != float64(3) {
			t.Fatalf("crawl over --data: %+v; want 3 pages indexed", res)
		}
		if got := mcpSearch(t, cs, map[string]any{"query": "lighthouse keeper", "type": "keyword"}); !strings.Contains(got, site+"/keeper") {
			t.Errorf("search after the crawl over --data:\n%s\nwant %s/keeper", got, site)
		}
	})
	t.Run("no index", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "none")
		_, stderr, err := runCari(t, "mcp", "--data", missing)
		if err == nil || !strings.Contains(stderr, "no index there") {
			t.Errorf("cari mcp --data over no index: %v, %s; want an error naming --data", err, stderr)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Errorf("cari mcp created %s", missing)
		}
	})
	t.Run("server", func(t *testing.T) {
		data := t.TempDir()
		mustCari(t, "index", "--data", data, "--corpus", fixture("corpus.jsonl"), "--max-malformed", fixtureMaxMalformed)
		srv := startServe(t, data, "CARI_AUTH_SEARCH_KEYS="+exaSearchKey, "CARI_AUTH_ADMIN_KEYS="+exaAdminKey)
		upsertExaDocs(t, srv.url)
		cs := mcpSession(t, []string{"CARI_API_KEY=" + exaSearchKey}, "--server", srv.url)
		got := mcpSearch(t, cs, map[string]any{"query": "volcano", "type": "keyword", "includeDomains": []string{"news.example.com"}})
		if !strings.Contains(got, "https://news.example.com/") || strings.Contains(got, "geo.example.com") {
			t.Errorf("search over --server with includeDomains:\n%s\nwant news.example.com only", got)
		}
	})
}

// mcpDocsManual is the one document of the collection docs in the MCP
// end-to-end tests.
const mcpDocsManual = `{"collection":"docs","document":{"id":"pump","url":"https://docs.example.com/pump","title":"Pump manual","text":"Prime the volcano pump before the first start: open the vent and fill the housing with water."}}`

// startMCPServe runs cari serve over the e2e corpus, Exa's documents, and
// a collection docs (alias manuals) holding mcpDocsManual and empty
// collections web-http and web-stdio to crawl into; with a search and an
// admin key, and crawls allowed to loopback.
func startMCPServe(t *testing.T) *served {
	t.Helper()
	data := t.TempDir()
	mustCari(t, "index", "--data", data, "--corpus", fixture("corpus.jsonl"), "--max-malformed", fixtureMaxMalformed)
	for _, c := range []string{"docs", "web-http", "web-stdio"} {
		mustCari(t, "collections", "create", "--data", data, c, "--embedder", "none")
	}
	mustCari(t, "collections", "alias", "--data", data, "manuals", "docs")
	srv := startServe(t, data, "CARI_AUTH_SEARCH_KEYS="+exaSearchKey, "CARI_AUTH_ADMIN_KEYS="+exaAdminKey,
		"--crawl-allow-private", "--crawl-contact", "https://example.org/bot", "--crawl-min-host-delay", "0")
	upsertExaDocs(t, srv.url)
	code, _, body := call(t, http.MethodPost, srv.url+"/v1/documents:upsert", mcpDocsManual, "X-Api-Key", exaAdminKey)
	if code != http.StatusOK {
		t.Fatalf("upsert into docs: %d %s", code, body)
	}
	return srv
}

func TestMCPTypeScriptSDKEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the MCP SDK test installs npm packages and compiles TypeScript; skipped with -short")
	}
	node, script, nodePath := npmScript(t, filepath.Join("..", "..", "test", "mcp"), "@modelcontextprotocol/sdk", "client.js")
	site := sitetest.Serve(t, sitetest.Lighthouses)
	srv := startMCPServe(t)

	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, 2*time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(cariEnv(),
		"NODE_PATH="+nodePath,
		"CARI_BIN="+cariBinary(t),
		"CARI_URL="+srv.url,
		"CARI_KEY="+exaSearchKey,
		"CARI_ADMIN_KEY="+exaAdminKey,
		"CARI_SIMILAR_URL=https://geo.example.com/volcano",
		"CARI_SITE_URL="+site,
	)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("the MCP TypeScript SDK test failed: %v\n%s", err, out)
	}
}

// inspectorTools lists the tools of an MCP server through the inspector's
// CLI, given its options and the server's URL or command (with env added
// to the environment the command inherits), and returns their names.
func inspectorTools(t *testing.T, node, cli string, env, opts []string, target ...string) []string {
	t.Helper()
	// The CLI's own options go before "--", the command's arguments after.
	args := append([]string{filepath.Join(cli, "index.js"), target[0], "--method", "tools/list"}, opts...)
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append(append(args, "--"), target[1:]...)...)
	// The CLI reads its own package.json by a path relative to the working
	// directory (inspector-cli 1.0.3), so it runs where that path holds.
	cmd.Dir = cli
	cmd.Env = append(cariEnv(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("inspector CLI %s: %v\n%s\n%s", strings.Join(target, " "), err, out, stderr.String())
	}
	var res struct {
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("inspector CLI %s: %v\n%s", strings.Join(target, " "), err, out)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	sort.Strings(names)
	return names
}

// The MCP inspector's CLI (@modelcontextprotocol/inspector-cli, pinned in
// test/mcp) lists the tools over streamable HTTP and over cari mcp on
// stdio, headless, as an operator checks a deployment.
func TestMCPInspectorCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("the inspector test installs npm packages; skipped with -short")
	}
	node, modules := npmInstall(t, filepath.Join("..", "..", "test", "mcp"), "@modelcontextprotocol/inspector-cli")
	cli := filepath.Join(modules, "@modelcontextprotocol", "inspector-cli", "build")
	srv := startMCPServe(t)
	want := "answer,collections,contents,crawl,find_similar,search"
	httpOpts := []string{"--transport", "http", "--header", "x-api-key: " + exaSearchKey}
	if got := strings.Join(inspectorTools(t, node, cli, nil, httpOpts, srv.url+"/mcp"), ","); got != want {
		t.Errorf("tools over HTTP: %s, want %s", got, want)
	}
	env := []string{"CARI_API_KEY=" + exaSearchKey}
	if got := strings.Join(inspectorTools(t, node, cli, env, nil, cariBinary(t), "mcp", "--server", srv.url), ","); got != want {
		t.Errorf("tools over stdio: %s, want %s", got, want)
	}
}
