package main

// The MCP end-to-end tests: the real binary's cari mcp, started as an agent
// starts it (a subprocess on stdio), over a data directory and over a
// running cari serve with API keys, driven by the Go SDK's own client; and
// /mcp and cari mcp driven by the official TypeScript SDK's client
// (test/mcp, pinned in its lock file).

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
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
		cs := mcpSession(t, nil, "--data", data)
		tools, err := cs.ListTools(t.Context(), nil)
		if err != nil || len(tools.Tools) != 6 {
			t.Fatalf("tools/list: %v, %v; want 6 tools", tools, err)
		}
		if got := mcpSearch(t, cs, map[string]any{"query": "volcano eruption", "type": "keyword"}); !strings.Contains(got, "How volcanoes erupt") {
			t.Errorf("search over --data:\n%s\nwant How volcanoes erupt", got)
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

func TestMCPTypeScriptSDKEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the MCP SDK test installs npm packages and compiles TypeScript; skipped with -short")
	}
	node, script, nodePath := npmScript(t, filepath.Join("..", "..", "test", "mcp"), "@modelcontextprotocol/sdk", "client.js")
	data := t.TempDir()
	mustCari(t, "index", "--data", data, "--corpus", fixture("corpus.jsonl"), "--max-malformed", fixtureMaxMalformed)
	srv := startServe(t, data, "CARI_AUTH_SEARCH_KEYS="+exaSearchKey, "CARI_AUTH_ADMIN_KEYS="+exaAdminKey)
	upsertExaDocs(t, srv.url)

	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, 2*time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(cariEnv(),
		"NODE_PATH="+nodePath,
		"CARI_BIN="+cariBinary(t),
		"CARI_URL="+srv.url,
		"CARI_KEY="+exaSearchKey,
		"CARI_SIMILAR_URL=https://geo.example.com/volcano",
	)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("the MCP TypeScript SDK test failed: %v\n%s", err, out)
	}
}
