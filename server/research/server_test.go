package research_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cari-search/cari/internal/chattest"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/server"
	"github.com/cari-search/cari/server/exa"
	"github.com/cari-search/cari/server/internal/servertest"
	"github.com/cari-search/cari/server/research"
)

const (
	searchKey = "research-search-key-0123"
	otherKey  = "research-other-key-01234"
	// limitedKey may search the collection docs alone, not default.
	limitedKey = "research-limited-key-012"
)

// startServer runs the whole server with API keys on loopback, its
// research agent on chat (nil: no chat server), so that the tools'
// searches pass the guard and Exa's endpoints as in production. It
// returns the HTTP URL and the gRPC address.
func startServer(t *testing.T, chat *chattest.Server) (string, string) {
	t.Helper()
	st := servertest.Store(t) // servertest.Docs, the volcano page among them
	guard, err := server.NewGuard(server.GuardOptions{Keys: []server.Key{{Secret: searchKey, Scope: server.ScopeSearch}, {Secret: otherKey, Scope: server.ScopeSearch},
		{Name: "limited", Secret: limitedKey, Scope: server.ScopeSearch, Collections: []string{"docs"}}}})
	if err != nil {
		t.Fatal(err)
	}
	logs := &servertest.LogBuffer{}
	opts := server.Options{Searcher: searcher.New(st, searcher.Options{}), Store: st, StoreName: "local", Guard: guard,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Research: research.Options{Dir: t.TempDir()}}
	if chat != nil {
		opts.Answer = exa.AnswerOptions{URL: chat.URL + "/v1", Model: "Qwen/Qwen3-8B", APIKey: "llm-key"}
	}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return servertest.ServeBoth(t, srv.Serve, srv.Shutdown)
}

// specSchemas compiles the Research API's response schemas from Exa's
// spec (testdata/exa-research-schemas.yaml names its source).
func specSchemas(t *testing.T) (task, list *jsonschema.Schema) {
	t.Helper()
	c := servertest.SpecCompiler(t, "testdata/exa-research-schemas.yaml")
	compile := func(name string) *jsonschema.Schema {
		s, err := c.Compile(servertest.ExaSpec + "#/components/schemas/" + name)
		if err != nil {
			t.Fatalf("compile %s: %v", name, err)
		}
		return s
	}
	return compile("ResearchDtoClass"), compile("ListResearchResponseDto")
}

// checkSpec validates body against s.
func checkSpec(t *testing.T, what string, s *jsonschema.Schema, body []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", what, err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s does not match Exa's spec: %v\n%s", what, err, body)
	}
}

// TestServerResearch runs a task on the whole server: behind its keys,
// the agent's tools searching and reading the index, and every answer
// valid against Exa's spec.
func TestServerResearch(t *testing.T) {
	chat := chattest.Start(t,
		chattest.ToolCalls("", chattest.ToolCall{ID: "c1", Name: "search", Arguments: `{"query":"volcano magma"}`}),
		chattest.ToolCalls("", chattest.ToolCall{ID: "c2", Name: "contents", Arguments: `{"urls":["https://geo.example.com/volcano"]}`}),
		chattest.Reply("Gas pressure drives an eruption [1]."),
	).Repeat(chattest.Reply("Nothing to cite.")) // the task on /c/default
	url, _ := startServer(t, chat)
	taskSchema, listSchema := specSchemas(t)
	key := []string{"X-Api-Key", searchKey}

	if r := servertest.Do(t, url, "POST", research.Path, `{"instructions":"Why do volcanoes erupt?"}`); r.Code != 401 {
		t.Errorf("without a key: %d %s, want 401", r.Code, r.Body)
	}
	r := servertest.Do(t, url, "POST", research.Path, `{"instructions":"Why do volcanoes erupt?","model":"exa-research"}`, key...)
	if r.Code != 201 {
		t.Fatalf("create: %d %s", r.Code, r.Body)
	}
	checkSpec(t, "create", taskSchema, r.Body)
	var created map[string]any
	_ = json.Unmarshal(r.Body, &created)
	id := created["researchId"].(string)

	var got map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = servertest.Do(t, url, "GET", research.Path+"/"+id+"?events=true", "", key...)
		_ = json.Unmarshal(r.Body, &got)
		if got["status"] == "completed" || got["status"] == "failed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got["status"] != "completed" {
		t.Fatalf("task: %s", r.Body)
	}
	checkSpec(t, "get with events", taskSchema, r.Body)
	out := got["output"].(map[string]any)["content"].(string)
	if !strings.HasSuffix(out, "## Sources\n\n1. [How volcanoes erupt](https://geo.example.com/volcano)") {
		t.Errorf("report %q", out)
	}
	msgs := chat.Calls()[2].Messages()
	if read := msgs[len(msgs)-1]["content"].(string); !strings.Contains(read, "Gas pressure drives the eruption.") {
		t.Errorf("contents gave the model %q, want the indexed text", read)
	}

	r = servertest.Do(t, url, "GET", research.Path+"?limit=5", "", key...)
	if r.Code != 200 {
		t.Fatalf("list: %d %s", r.Code, r.Body)
	}
	checkSpec(t, "list", listSchema, r.Body)

	// A collection's path makes a task on that collection.
	r = servertest.Do(t, url, "POST", "/c/default"+research.Path, `{"instructions":"Why do volcanoes erupt?"}`, key...)
	if r.Code != 201 || !bytes.Contains(r.Body, []byte(`"collection":"default"`)) {
		t.Errorf("create on /c/default: %d %s", r.Code, r.Body)
	}

	// Another key sees none of it.
	if r := servertest.Do(t, url, "GET", research.Path+"/"+id, "", "X-Api-Key", otherKey); r.Code != 404 {
		t.Errorf("another key's get: %d %s, want 404", r.Code, r.Body)
	}
	if r := servertest.Do(t, url, "GET", research.Path, "", "X-Api-Key", otherKey); r.Code != 200 || !bytes.Contains(r.Body, []byte(`"data":[]`)) {
		t.Errorf("another key's list: %d %s, want none", r.Code, r.Body)
	}
}

// TestServerResearchNoChat names the setting when no chat server is
// configured.
func TestServerResearchNoChat(t *testing.T) {
	url, _ := startServer(t, nil)
	r := servertest.Do(t, url, "POST", research.Path, `{"instructions":"Why?"}`, "X-Api-Key", searchKey)
	if r.Code != 501 || !bytes.Contains(r.Body, []byte("--answer-url")) {
		t.Errorf("%d %s, want 501 naming --answer-url", r.Code, r.Body)
	}
}
