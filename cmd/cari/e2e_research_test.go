package main

// The Research API end-to-end test: the real cari serve, with API keys and
// its agent on a chat model server that answers as a model with tools
// would, driven through the unmodified exa-js SDK's research client
// (test/exa/src/research.ts).

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari/internal/chattest"
)

// researchModel answers each turn of a research conversation from where
// the conversation is, so that tasks running at once get the same
// script: search, read the volcano page, write the report citing [1]; or,
// asked for JSON, the object at once.
func researchModel(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	tools := 0
	for _, m := range req.Messages {
		if m.Role == "tool" {
			tools++
		}
	}
	switch {
	case strings.Contains(req.Messages[0].Content, "JSON Schema"):
		chattest.Reply(`{"answer":"magma"}`)(w, r)
	case tools == 0:
		chattest.ToolCalls("", chattest.ToolCall{ID: "c1", Name: "search", Arguments: `{"query":"volcano magma"}`})(w, r)
	case tools == 1:
		chattest.ToolCalls("", chattest.ToolCall{ID: "c2", Name: "contents", Arguments: `{"urls":["https://geo.example.com/volcano"]}`})(w, r)
	default:
		chattest.Reply("Magma rises through the crust until gas pressure makes the volcano erupt [1].")(w, r)
	}
}

func TestExaSDKResearch(t *testing.T) {
	if testing.Short() {
		t.Skip("the Exa SDK test installs npm packages and compiles TypeScript; skipped with -short")
	}
	node, dir, nodePath := npmScript(t, exaProject, "exa-js", "research.js")
	chat := chattest.Start(t).Repeat(researchModel)

	data := t.TempDir()
	mustCari(t, "index", "--data", data, "--corpus", fixture("corpus.jsonl"), "--max-malformed", fixtureMaxMalformed)
	srv := startServe(t, data, "CARI_AUTH_SEARCH_KEYS="+exaSearchKey, "CARI_AUTH_ADMIN_KEYS="+exaAdminKey,
		"--answer-url", chat.URL+"/v1", "--answer-model", "Qwen/Qwen3-8B")
	upsertExaDocs(t, srv.url)

	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, 2*time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, node, dir)
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodePath, "CARI_URL="+srv.url, "CARI_KEY="+exaSearchKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the exa-js research test failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("the exa-js research test printed %s, want ok", out)
	}
	t.Logf("exa-js research: %s", strings.TrimSpace(string(out)))
}
