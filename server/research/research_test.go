package research_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cari-search/cari/internal/chattest"
	"github.com/cari-search/cari/server/research"
)

// TestReport drives a task through search, contents and a cited report,
// and checks each request Cari sends the model: the tools, the messages,
// the tool results.
func TestReport(t *testing.T) {
	chat := chattest.Start(t,
		chattest.ToolCalls("I will search for how volcanoes erupt.", chattest.ToolCall{ID: "c1", Name: "search", Arguments: `{"query":"volcano eruption"}`}),
		chattest.ToolCalls("", chattest.ToolCall{ID: "c2", Name: "contents", Arguments: `{"urls":["https://geo.example.com/volcano"]}`}),
		chattest.Reply("A volcano erupts when magma rises through the crust [1]."),
	)
	e := start(t, chat, research.Options{})
	id := e.create(`{"instructions":"How do volcanoes erupt?","model":"exa-research"}`)
	m := e.wait(id, "completed", "failed")
	if m["status"] != "completed" {
		t.Fatalf("task: %v", m)
	}

	calls := chat.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d chat calls, want 3", len(calls))
	}
	first := calls[0]
	if first.Path != "/v1/chat/completions" || first.Auth != "Bearer llm-key" || first.Body["model"] != "Qwen/Qwen3-8B" || first.Body["tool_choice"] != "auto" {
		t.Errorf("first call: path %s auth %q body %v", first.Path, first.Auth, first.Body)
	}
	var tools []string
	for _, tl := range first.Body["tools"].([]any) {
		fn := tl.(map[string]any)["function"].(map[string]any)
		if _, ok := fn["parameters"].(map[string]any)["properties"]; !ok {
			t.Errorf("tool %v has no parameter schema", fn["name"])
		}
		tools = append(tools, fn["name"].(string))
	}
	if want := []string{"search", "contents", "find_similar"}; !reflect.DeepEqual(tools, want) {
		t.Errorf("tools %v, want %v", tools, want)
	}
	msgs := first.Messages()
	if len(msgs) != 2 || msgs[0]["role"] != "system" || msgs[1]["role"] != "user" || msgs[1]["content"] != "How do volcanoes erupt?" {
		t.Errorf("first call's messages: %v", msgs)
	}
	if !strings.Contains(msgs[0]["content"].(string), "cite each claim") {
		t.Errorf("system prompt does not ask for citations: %s", msgs[0]["content"])
	}

	// The second call carries the model's tool call and its result.
	msgs = calls[1].Messages()
	if len(msgs) != 4 {
		t.Fatalf("second call: %d messages, want 4: %v", len(msgs), msgs)
	}
	asst, result := msgs[2], msgs[3]
	tc := asst["tool_calls"].([]any)[0].(map[string]any)
	if asst["role"] != "assistant" || asst["content"] != "I will search for how volcanoes erupt." || tc["id"] != "c1" ||
		tc["function"].(map[string]any)["arguments"] != `{"query":"volcano eruption"}` {
		t.Errorf("assistant message: %v", asst)
	}
	wantResult := "[1] How volcanoes erupt\nURL: https://geo.example.com/volcano\nHighlights: A volcano erupts when molten magma rises.\n\n" +
		"[2] Etna lights up the night\nURL: https://news.example.com/etna\nHighlights: Etna sent lava fountains into the sky."
	if result["role"] != "tool" || result["tool_call_id"] != "c1" || result["content"] != wantResult {
		t.Errorf("tool result:\n%v\nwant content:\n%s", result, wantResult)
	}
	msgs = calls[2].Messages()
	if got := msgs[len(msgs)-1]; got["tool_call_id"] != "c2" || got["content"] != "[1] How volcanoes erupt\nURL: https://geo.example.com/volcano\nA volcano erupts when molten magma rises through the crust." {
		t.Errorf("contents result: %v", got)
	}

	// The tools went to Exa's endpoints with the creator's key.
	exa := e.exa.calls()
	if len(exa) != 2 || exa[0].path != "/search" || exa[0].body["query"] != "volcano eruption" || exa[1].path != "/contents" ||
		exa[1].body["livecrawl"] != "never" || exa[0].key != "search-key" || exa[1].key != "search-key" {
		t.Errorf("Exa calls: %+v", exa)
	}

	out := m["output"].(map[string]any)
	wantReport := "A volcano erupts when magma rises through the crust [1].\n\n## Sources\n\n1. [How volcanoes erupt](https://geo.example.com/volcano)"
	if out["content"] != wantReport {
		t.Errorf("report:\n%s\nwant:\n%s", out["content"], wantReport)
	}
	cost := m["costDollars"].(map[string]any)
	if cost["numSearches"] != 1.0 || cost["numPages"] != 1.0 || cost["reasoningTokens"] != 300.0 || cost["total"] != 0.0 {
		t.Errorf("costDollars %v", cost)
	}
	want := []string{"research-definition", "plan-definition", "plan-operation:think", "plan-operation:search", "plan-operation:crawl", "plan-output", "research-output"}
	if got := eventTypes(m); !reflect.DeepEqual(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// TestSchemaOutput checks that a reply that does not match outputSchema
// is sent back once with the validation error, and the corrected one is
// the output.
func TestSchemaOutput(t *testing.T) {
	chat := chattest.Start(t,
		chattest.Reply(`{"answer": 5}`),
		chattest.Reply("```json\n{\"answer\": \"magma\", \"sources\": [\"https://geo.example.com/volcano\"]}\n```"),
	)
	e := start(t, chat, research.Options{})
	schema := `{"type":"object","required":["answer"],"properties":{"answer":{"type":"string"},"sources":{"type":"array","items":{"type":"string"}}},"additionalProperties":false}`
	id := e.create(`{"instructions":"What erupts?","outputSchema":` + schema + `}`)
	m := e.wait(id, "completed", "failed")
	if m["status"] != "completed" {
		t.Fatalf("task: %v", m)
	}
	out := m["output"].(map[string]any)
	parsed, _ := json.Marshal(out["parsed"])
	if out["content"] != `{"answer":"magma","sources":["https://geo.example.com/volcano"]}` || string(parsed) != `{"answer":"magma","sources":["https://geo.example.com/volcano"]}` {
		t.Errorf("output %v", out)
	}
	calls := chat.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	if sys := calls[0].Messages()[0]["content"].(string); !strings.Contains(sys, schema) {
		t.Errorf("system prompt lacks the schema: %s", sys)
	}
	msgs := calls[1].Messages()
	fix := msgs[len(msgs)-1]
	if msgs[len(msgs)-2]["content"] != `{"answer": 5}` || fix["role"] != "user" || !strings.Contains(fix["content"].(string), "does not match outputSchema") {
		t.Errorf("correction messages: %v", msgs[len(msgs)-2:])
	}
}

// TestSchemaOutputInvalidTwice fails the task when the correction does
// not match either, saying why.
func TestSchemaOutputInvalidTwice(t *testing.T) {
	chat := chattest.Start(t, chattest.Reply(`{"answer": 5}`), chattest.Reply(`not json`))
	e := start(t, chat, research.Options{})
	id := e.create(`{"instructions":"What erupts?","outputSchema":{"type":"object","required":["answer"],"properties":{"answer":{"type":"string"}}}}`)
	m := e.wait(id, "completed", "failed")
	if m["status"] != "failed" || !strings.Contains(m["error"].(string), "not JSON") {
		t.Errorf("task %v, want failed: not JSON", m)
	}
}

// TestStepBudget stops a model that calls tools for ever: its last call
// offers no tools and says the budget is spent, and when it still calls
// one the task fails saying so.
func TestStepBudget(t *testing.T) {
	loop := chattest.ToolCalls("", chattest.ToolCall{ID: "c", Name: "search", Arguments: `{"query":"volcano"}`})
	chat := chattest.Start(t).Repeat(loop)
	e := start(t, chat, research.Options{MaxSteps: 3})
	id := e.create(`{"instructions":"Volcanoes?"}`)
	m := e.wait(id, "completed", "failed")
	if m["status"] != "failed" || !strings.Contains(m["error"].(string), "step budget spent: the model made 3 calls") {
		t.Fatalf("task %v, want failed on the step budget", m)
	}
	calls := chat.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d calls, want 3", len(calls))
	}
	last := calls[2]
	msgs := last.Messages()
	if _, ok := last.Body["tools"]; ok || !strings.Contains(msgs[len(msgs)-1]["content"].(string), "budget for this task is spent") {
		t.Errorf("last call offers tools or does not say the budget is spent: %v", last.Body)
	}
	evs := m["events"].([]any)
	if out := evs[len(evs)-1].(map[string]any)["output"].(map[string]any); out["outputType"] != "failed" || out["error"] != m["error"] {
		t.Errorf("last event %v", evs[len(evs)-1])
	}
}

// TestMalformedToolCalls feeds a tool call the model got wrong back to it
// as the call's result, and the task goes on.
func TestMalformedToolCalls(t *testing.T) {
	chat := chattest.Start(t,
		chattest.ToolCalls("",
			chattest.ToolCall{ID: "c1", Name: "search", Arguments: `{"query": "volc`},
			chattest.ToolCall{ID: "c2", Name: "browse", Arguments: `{}`},
			chattest.ToolCall{ID: "c3", Name: "contents", Arguments: `{"urls":[]}`}),
		chattest.Reply("I found nothing to cite."),
	)
	e := start(t, chat, research.Options{})
	id := e.create(`{"instructions":"Volcanoes?"}`)
	m := e.wait(id, "completed", "failed")
	if m["status"] != "completed" {
		t.Fatalf("task %v", m)
	}
	msgs := chat.Calls()[1].Messages()
	want := map[string]string{
		"c1": "error: the arguments of search are not a JSON object",
		"c2": `error: there is no tool "browse"; the tools are search, contents and find_similar`,
		"c3": "error: contents needs urls",
	}
	for _, msg := range msgs[3:] {
		id, _ := msg["tool_call_id"].(string)
		if !strings.HasPrefix(msg["content"].(string), want[id]) {
			t.Errorf("result of %s: %q, want it to start %q", id, msg["content"], want[id])
		}
		delete(want, id)
	}
	if len(want) != 0 {
		t.Errorf("no results for %v", want)
	}
	if n := len(e.exa.calls()); n != 0 {
		t.Errorf("%d Exa calls for malformed tool calls", n)
	}
}

// TestReportWithoutCitations asks once for citations when the report
// cites none of the sources it was given.
func TestReportWithoutCitations(t *testing.T) {
	chat := chattest.Start(t,
		chattest.ToolCalls("", chattest.ToolCall{ID: "c1", Name: "search", Arguments: `{"query":"etna"}`}),
		chattest.Reply("Etna erupts."),
		chattest.Reply("Etna sends lava fountains into the sky [2][7]."),
	)
	e := start(t, chat, research.Options{})
	m := e.wait(e.create(`{"instructions":"Etna?"}`), "completed", "failed")
	out, _ := m["output"].(map[string]any)
	if m["status"] != "completed" || !strings.HasSuffix(out["content"].(string), "## Sources\n\n2. [Etna lights up the night](https://news.example.com/etna)") {
		t.Fatalf("task %v: want the report with source 2 only (7 was never given)", m)
	}
	msgs := chat.Calls()[2].Messages()
	if !strings.Contains(msgs[len(msgs)-1]["content"].(string), "cites no source") {
		t.Errorf("no request for citations: %v", msgs[len(msgs)-1])
	}
}

// TestTimeout fails a task whose model does not answer within its time
// budget, saying so.
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	chat := chattest.Start(t, chattest.Stall(release))
	e := start(t, chat, research.Options{Timeout: 100 * time.Millisecond})
	m := e.wait(e.create(`{"instructions":"Volcanoes?"}`), "completed", "failed")
	if m["status"] != "failed" || !strings.Contains(m["error"].(string), "the task ran past its time budget of 100ms") {
		t.Errorf("task %v, want failed on the time budget", m)
	}
}

// TestModelError fails the task with the model server's own message.
func TestModelError(t *testing.T) {
	chat := chattest.Start(t, chattest.Error(http.StatusBadRequest, `"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set`))
	e := start(t, chat, research.Options{})
	m := e.wait(e.create(`{"instructions":"Volcanoes?"}`), "completed", "failed")
	if m["status"] != "failed" || !strings.Contains(m["error"].(string), "--enable-auto-tool-choice") {
		t.Errorf("task %v, want the server's message", m)
	}
}

// TestRestart fails, with the reason, a task that was running when its
// server crashed, and one running at a graceful shutdown; both are kept.
func TestRestart(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	chat := chattest.Start(t).Repeat(chattest.Stall(release))
	dir := t.TempDir()
	first := start(t, chat, research.Options{Dir: dir})
	crashed := first.create(`{"instructions":"Volcanoes?"}`)
	first.wait(crashed, "running")

	// A second server on the same directory sees what a crash leaves.
	second := start(t, nil, research.Options{Dir: dir})
	m := second.wait(crashed, "failed")
	if !strings.Contains(m["error"].(string), "the server stopped while the task was running") || m["instructions"] != "Volcanoes?" {
		t.Errorf("after a crash: %v", m)
	}

	shut := first.create(`{"instructions":"Etna?"}`)
	first.wait(shut, "running")
	first.svc.Close()
	third := start(t, nil, research.Options{Dir: dir})
	m = third.wait(shut, "failed")
	if !strings.Contains(m["error"].(string), "the server shut down while the task was running") {
		t.Errorf("after a shutdown: %v", m)
	}
}

// TestNoChatServer refuses a task, naming the setting, when no chat model
// server is configured.
func TestNoChatServer(t *testing.T) {
	e := start(t, nil, research.Options{})
	code, m := e.do("POST", research.Path, `{"instructions":"Volcanoes?"}`)
	if code != http.StatusNotImplemented || m["tag"] != "NOT_IMPLEMENTED" || !strings.Contains(m["error"].(string), "--answer-url") {
		t.Errorf("%d %v, want 501 naming --answer-url", code, m)
	}
}

// TestBadRequests answers bad input with 400 naming the field, and
// unknown tasks with 404.
func TestBadRequests(t *testing.T) {
	e := start(t, chattest.Start(t), research.Options{})
	for _, c := range []struct{ method, path, body, want string }{
		{"POST", research.Path, `{}`, "instructions: required"},
		{"POST", research.Path, `{"instructions":"x","model":"gpt-4"}`, `model: "gpt-4" is not a research model`},
		{"POST", research.Path, `{"instructions":"x","outputSchema":{"type":"nope"}}`, "outputSchema: not a valid JSON Schema"},
		{"POST", research.Path, `{"instructions":"x","outputSchema":{"$ref":"file:///etc/passwd"}}`, "outputSchema"},
		{"POST", research.Path, `{"instructions":"x","instruction":"y"}`, `unknown field "instruction"`},
		{"POST", research.Path, `{"instructions":"` + strings.Repeat("x", 4097) + `"}`, "instructions: 4097 characters"},
		{"GET", research.Path + "?limit=51", "", "limit"},
		{"GET", research.Path + "?cursor=r00", "", "cursor"},
		{"GET", research.Path + "/r0123abc", "", `no research task "r0123abc"`},
		{"GET", research.Path + "/..%2f..%2fetc", "", "no research task"},
	} {
		code, m := e.do(c.method, c.path, c.body)
		msg, _ := m["error"].(string)
		if code/100 != 4 || !strings.Contains(msg, c.want) || m["requestId"] == "" {
			t.Errorf("%s %s %s: %d %v, want a 4xx naming %q", c.method, c.path, c.body, code, m, c.want)
		}
	}
}

// TestListAndCancel pages through tasks newest first and cancels one.
func TestListAndCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	chat := chattest.Start(t).Repeat(chattest.Stall(release))
	e := start(t, chat, research.Options{MaxConcurrent: 1})
	var ids []string
	for i := range 3 {
		ids = append(ids, e.create(fmt.Sprintf(`{"instructions":"task %d"}`, i)))
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	code, m := e.do("GET", research.Path+"?limit=2", "")
	data := m["data"].([]any)
	if code != 200 || len(data) != 2 || data[0].(map[string]any)["researchId"] != ids[2] || m["hasMore"] != true || m["nextCursor"] != ids[1] {
		t.Fatalf("first page: %d %v", code, m)
	}
	if _, ok := data[0].(map[string]any)["events"]; ok {
		t.Errorf("a listing carries events: %v", data[0])
	}
	_, m = e.do("GET", research.Path+"?limit=2&cursor="+ids[1], "")
	data = m["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["researchId"] != ids[0] || m["hasMore"] != false || m["nextCursor"] != nil {
		t.Errorf("second page: %v", m)
	}

	// The first runs; the others wait for its slot.
	e.wait(ids[0], "running")
	if _, m := e.do("GET", research.Path+"/"+ids[2], ""); m["status"] != "pending" {
		t.Errorf("third task %v, want pending", m["status"])
	}
	for _, id := range []string{ids[0], ids[2]} {
		code, m := e.do("POST", research.Path+"/"+id+"/cancel", "")
		if code != 200 || m["status"] != "canceled" || m["finishedAt"] == nil {
			t.Errorf("cancel %s: %d %v", id, code, m)
		}
	}
	e.wait(ids[1], "running") // the slot freed
	if m := e.wait(ids[0], "canceled"); m["error"] != nil {
		t.Errorf("canceled task has an error: %v", m)
	}
}

// TestStream follows a task as server-sent events, as exa-js reads them:
// an event line, then the data line.
func TestStream(t *testing.T) {
	release := make(chan struct{})
	chat := chattest.Start(t,
		chattest.ToolCalls("", chattest.ToolCall{ID: "c1", Name: "search", Arguments: `{"query":"volcano"}`}),
		func(w http.ResponseWriter, r *http.Request) { <-release; chattest.Reply("Magma rises [1].")(w, r) },
	)
	e := start(t, chat, research.Options{})
	id := e.create(`{"instructions":"Volcanoes?"}`)
	resp, err := http.Get(e.http.URL + research.Path + "/" + id + "?stream=true&events=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	e.wait(id, "running")
	close(release)
	body := new(strings.Builder)
	if _, err := io.Copy(body, resp.Body); err != nil {
		t.Fatal(err)
	}
	var types []string
	for part := range strings.SplitSeq(strings.TrimSpace(body.String()), "\n\n") {
		lines := strings.SplitN(part, "\n", 2)
		name, ok1 := strings.CutPrefix(lines[0], "event: ")
		data, ok2 := strings.CutPrefix(lines[1], "data: ")
		var ev map[string]any
		if !ok1 || !ok2 || json.Unmarshal([]byte(data), &ev) != nil || ev["eventType"] != name || ev["researchId"] != id {
			t.Fatalf("event %q", part)
		}
		types = append(types, name)
	}
	want := []string{"research-definition", "plan-definition", "plan-operation", "plan-output", "research-output"}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("streamed %v, want %v", types, want)
	}
}

// TestTextToolCalls reads the <tool_call> blocks that Qwen3 writes into
// its text when the server has no tool-call parser, as tool calls.
func TestTextToolCalls(t *testing.T) {
	chat := chattest.Start(t,
		chattest.Reply("Let me search.\n<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"etna\"}}\n</tool_call>"),
		chattest.Reply("Etna sends lava fountains into the sky [2]."),
	)
	e := start(t, chat, research.Options{})
	m := e.wait(e.create(`{"instructions":"Etna?"}`), "completed", "failed")
	if m["status"] != "completed" {
		t.Fatalf("task %v", m)
	}
	msgs := chat.Calls()[1].Messages()
	asst := msgs[2]
	tc := asst["tool_calls"].([]any)[0].(map[string]any)
	fn := tc["function"].(map[string]any)
	if asst["content"] != "Let me search." || fn["name"] != "search" || fn["arguments"] != `{"query": "etna"}` || tc["id"] != msgs[3]["tool_call_id"] {
		t.Errorf("assistant message %v, tool result %v", asst, msgs[3])
	}
	if exa := e.exa.calls(); len(exa) != 1 || exa[0].body["query"] != "etna" {
		t.Errorf("Exa calls %+v", exa)
	}
}

// TestDamagedTaskFile leaves a task file that does not decode where it
// is, logs it, and starts with the others.
func TestDamagedTaskFile(t *testing.T) {
	dir := t.TempDir()
	chat := chattest.Start(t, chattest.Reply("Nothing to cite."))
	first := start(t, chat, research.Options{Dir: dir})
	good := first.create(`{"instructions":"Volcanoes?"}`)
	first.wait(good, "completed")
	first.svc.Close()
	damaged := filepath.Join(dir, "r0123456789abcdef.json")
	if err := os.WriteFile(damaged, []byte(`{"researchId": "r01`), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	second := start(t, nil, research.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	second.wait(good, "completed")
	if b, err := os.ReadFile(damaged); err != nil || string(b) != `{"researchId": "r01` {
		t.Errorf("the damaged file is gone or changed: %q %v", b, err)
	}
	if !strings.Contains(logs.String(), "r0123456789abcdef.json: not a research task") {
		t.Errorf("log %q does not name the damaged file", logs.String())
	}
}

// TestResume goes on, on a server that resumes tasks, from the last step
// stored before a crash: the conversation so far, its sources' numbers
// and its budget; and leaves a task running at a graceful shutdown to go
// on at the next start.
func TestResume(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	chat := chattest.Start(t,
		chattest.ToolCalls("", chattest.ToolCall{ID: "c1", Name: "search", Arguments: `{"query":"etna"}`}),
		chattest.Stall(release),
	)
	first := start(t, chat, research.Options{Resume: true})
	id := first.create(`{"instructions":"Etna?"}`)
	for len(chat.Calls()) < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	// What a crash leaves: the file as the task's last step stored it.
	crashed := t.TempDir()
	b, err := os.ReadFile(filepath.Join(first.dir, id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(crashed, id+".json"), b, 0o600); err != nil {
		t.Fatal(err)
	}

	chat2 := chattest.Start(t, chattest.Reply("Etna sends lava fountains into the sky [2]."))
	second := start(t, chat2, research.Options{Dir: crashed, Resume: true, MaxSteps: 2})
	m := second.wait(id, "completed", "failed")
	if m["status"] != "completed" || !strings.HasSuffix(m["output"].(map[string]any)["content"].(string), "2. [Etna lights up the night](https://news.example.com/etna)") {
		t.Fatalf("resumed task %v", m)
	}
	if _, ok := m["state"]; ok {
		t.Errorf("the agent's state is answered: %v", m)
	}
	calls := chat2.Calls()
	msgs := calls[0].Messages()
	if len(calls) != 1 || len(msgs) != 5 || msgs[2]["role"] != "assistant" || msgs[3]["tool_call_id"] != "c1" ||
		!strings.Contains(msgs[4]["content"].(string), "budget for this task is spent") {
		t.Errorf("resumed call: want the conversation so far and, its second step of two, the last: %v", msgs)
	}
	if got := eventTypes(m); strings.Count(strings.Join(got, " "), "plan-definition") != 1 {
		t.Errorf("events %v: want one plan", got)
	}

	// A graceful shutdown leaves the task to the next start.
	third := start(t, chattest.Start(t).Repeat(chattest.Stall(release)), research.Options{Dir: t.TempDir(), Resume: true})
	id = third.create(`{"instructions":"Etna?"}`)
	third.wait(id, "running")
	// A watch of it ends at the shutdown rather than waiting for an end
	// that comes only at the next start.
	watched := make(chan error, 1)
	go func() {
		_, err := third.svc.Watch(context.Background(), research.Caller{}, id, func(research.Event) error { return nil })
		watched <- err
	}()
	third.svc.Close()
	select {
	case err := <-watched:
		if status.Code(err) != codes.Unavailable {
			t.Errorf("watch at shutdown: %v, want UNAVAILABLE", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a watch outlives the shutdown")
	}
	fourth := start(t, chattest.Start(t, chattest.Reply("Nothing to cite.")), research.Options{Dir: third.dir, Resume: true})
	if m := fourth.wait(id, "completed", "failed"); m["status"] != "completed" {
		t.Errorf("after a graceful shutdown: %v", m)
	}
}

// TestCallsPerReply runs at most 8 tool calls of one reply, and answers
// the rest with an error, each by its ID.
func TestCallsPerReply(t *testing.T) {
	var calls []chattest.ToolCall
	for i := range 10 {
		calls = append(calls, chattest.ToolCall{ID: fmt.Sprintf("c%d", i), Name: "search", Arguments: fmt.Sprintf(`{"query":"q%d"}`, i)})
	}
	chat := chattest.Start(t, chattest.ToolCalls("", calls...), chattest.Reply("Etna erupts [2]."))
	e := start(t, chat, research.Options{})
	if m := e.wait(e.create(`{"instructions":"Etna?"}`), "completed", "failed"); m["status"] != "completed" {
		t.Fatalf("task %v", m)
	}
	if n := len(e.exa.calls()); n != 8 {
		t.Errorf("%d searches, want 8", n)
	}
	msgs := chat.Calls()[1].Messages()
	last := msgs[len(msgs)-1]
	if len(msgs) != 13 || last["tool_call_id"] != "c9" || !strings.Contains(last["content"].(string), "at most 8 tool calls") {
		t.Errorf("%d messages, last %v", len(msgs), last)
	}
}

// TestCollectionAndOwner researches the collection a task's path names,
// and shows each task to its owner only.
func TestCollectionAndOwner(t *testing.T) {
	chat := chattest.Start(t,
		chattest.ToolCalls("", chattest.ToolCall{ID: "c1", Name: "search", Arguments: `{"query":"etna"}`}),
		chattest.Reply("Etna erupts [2]."),
	)
	owner := func(auth map[string]string) string { return "key:" + auth["X-Api-Key"] }
	e := start(t, chat, research.Options{Owner: owner})
	code, m := e.do("POST", "/c/docs"+research.Path, `{"instructions":"Etna?"}`)
	if code != http.StatusCreated || m["collection"] != "docs" {
		t.Fatalf("create: %d %v", code, m)
	}
	id := m["researchId"].(string)
	m = e.wait(id, "completed", "failed")
	if m["status"] != "completed" || m["owner"] != nil {
		t.Fatalf("task %v", m)
	}
	if exa := e.exa.calls(); len(exa) != 1 || exa[0].path != "/c/docs/search" {
		t.Errorf("Exa calls %+v, want /c/docs/search", exa)
	}
	if code, _ := e.doAs("other-key", "GET", research.Path+"/"+id, ""); code != http.StatusNotFound {
		t.Errorf("another key gets the task: %d", code)
	}
	if _, m := e.doAs("other-key", "GET", research.Path, ""); len(m["data"].([]any)) != 0 {
		t.Errorf("another key lists the task: %v", m)
	}
	if code, _ := e.doAs("other-key", "POST", research.Path+"/"+id+"/cancel", ""); code != http.StatusNotFound {
		t.Errorf("another key cancels the task: %d", code)
	}
	if _, m := e.do("GET", "/c/docs"+research.Path, ""); len(m["data"].([]any)) != 1 {
		t.Errorf("the owner does not list the task: %v", m)
	}
}
