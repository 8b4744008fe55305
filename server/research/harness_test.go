package research_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cari-search/cari/internal/chattest"
	"github.com/cari-search/cari/server/research"
)

// exaStub stands in for Exa's endpoints: it answers /search,
// /findSimilar and /contents from a few pages and records each request.
type exaStub struct {
	mu       sync.Mutex
	requests []exaRequest
}

type exaRequest struct {
	path, key string
	body      map[string]any
}

var stubPages = []map[string]any{
	{"id": "https://geo.example.com/volcano", "url": "https://geo.example.com/volcano", "title": "How volcanoes erupt",
		"text": "A volcano erupts when molten magma rises through the crust.", "highlights": []string{"A volcano erupts when molten magma rises."}},
	{"id": "https://news.example.com/etna", "url": "https://news.example.com/etna", "title": "Etna lights up the night",
		"text": "Etna sent lava fountains into the sky.", "highlights": []string{"Etna sent lava fountains into the sky."}},
}

func (x *exaStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &body)
	x.mu.Lock()
	x.requests = append(x.requests, exaRequest{path: r.URL.Path, key: r.Header.Get("X-Api-Key"), body: body})
	x.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/c/"); ok { // a collection's endpoints
		_, path, _ = strings.Cut(rest, "/")
		path = "/" + path
	}
	switch path {
	case "/search", "/findSimilar":
		var results []map[string]any
		for _, p := range stubPages {
			results = append(results, map[string]any{"id": p["id"], "url": p["url"], "title": p["title"], "highlights": p["highlights"]})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"requestId": "r", "results": results})
	case "/contents":
		var results, statuses []map[string]any
		for _, u := range body["urls"].([]any) {
			found := false
			for _, p := range stubPages {
				if p["url"] == u {
					results = append(results, map[string]any{"id": p["id"], "url": p["url"], "title": p["title"], "text": p["text"]})
					found = true
				}
			}
			status := "success"
			if !found {
				status = "error"
			}
			statuses = append(statuses, map[string]any{"id": u, "status": status})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"requestId": "r", "results": results, "statuses": statuses})
	default:
		http.NotFound(w, r)
	}
}

func (x *exaStub) calls() []exaRequest {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]exaRequest(nil), x.requests...)
}

// env is a Research API over a stub of Exa's endpoints and a scripted
// chat server.
type env struct {
	t    *testing.T
	svc  *research.Service
	http *httptest.Server
	exa  *exaStub
	chat *chattest.Server
	dir  string
}

// start serves the Research API with opts (Dir, Exa and Chat filled in
// where empty) on chat's model.
func start(t *testing.T, chat *chattest.Server, opts research.Options) *env {
	t.Helper()
	e := &env{t: t, exa: &exaStub{}, chat: chat, dir: opts.Dir}
	if e.dir == "" {
		e.dir = t.TempDir()
	}
	opts.Dir, opts.Exa = e.dir, e.exa
	if chat != nil && opts.Chat.URL == "" {
		opts.Chat = research.ChatOptions{URL: chat.URL + "/v1", Model: "Qwen/Qwen3-8B", APIKey: "llm-key", ReplyTokens: 1000}
	}
	svc, err := research.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.http = httptest.NewServer(svc.Handler())
	t.Cleanup(func() {
		e.http.Close()
		svc.Close()
	})
	return e
}

// do sends a request with the search key and decodes the JSON answer.
func (e *env) do(method, path, body string) (int, map[string]any) {
	e.t.Helper()
	return e.doAs("search-key", method, path, body)
}

// doAs sends a request with key.
func (e *env) doAs(key, method, path, body string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		e.t.Fatalf("%s %s: answer is not JSON: %v", method, path, err)
	}
	return resp.StatusCode, m
}

// create makes a task and returns its ID.
func (e *env) create(body string) string {
	e.t.Helper()
	code, m := e.do("POST", research.Path, body)
	if code != http.StatusCreated {
		e.t.Fatalf("create: %d %v", code, m)
	}
	return m["researchId"].(string)
}

// wait polls the task until it has one of the statuses and returns it
// with its events.
func (e *env) wait(id string, statuses ...string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, m := e.do("GET", research.Path+"/"+id+"?events=true", "")
		for _, s := range statuses {
			if m["status"] == s {
				return m
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("task %s is %v, want one of %v: %v", id, m["status"], statuses, m)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// eventTypes lists the eventType of each event of m, with the type of a
// plan operation's data after a colon.
func eventTypes(m map[string]any) []string {
	var out []string
	evs, _ := m["events"].([]any)
	for _, ev := range evs {
		e := ev.(map[string]any)
		s := e["eventType"].(string)
		if d, ok := e["data"].(map[string]any); ok {
			s += ":" + d["type"].(string)
		}
		out = append(out, s)
	}
	return out
}
