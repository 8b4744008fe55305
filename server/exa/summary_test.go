package exa_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// chatFunc answers each chat request with the completion reply writes for
// its body (model, messages, response_format...).
func chatFunc(reply func(body map[string]any) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		chatJSON(reply(body))(w, r)
	}
}

// chatMessages are a request body's messages as role, content pairs.
func chatMessages(t *testing.T, body map[string]any) [][2]string {
	t.Helper()
	msgs, _ := body["messages"].([]any)
	out := make([][2]string, 0, len(msgs))
	for _, m := range msgs {
		m := m.(map[string]any)
		out = append(out, [2]string{m["role"].(string), m["content"].(string)})
	}
	return out
}

// responseSchema is the response_format's json_schema of a request body,
// or nil.
func responseSchema(body map[string]any) map[string]any {
	rf, _ := body["response_format"].(map[string]any)
	js, _ := rf["json_schema"].(map[string]any)
	return js
}

func TestExaSummaryLLM(t *testing.T) {
	cs := startChatServer(t, chatFunc(func(body map[string]any) string {
		msgs := body["messages"].([]any)
		user := msgs[1].(map[string]any)["content"].(string)
		title, _, _ := strings.Cut(strings.TrimPrefix(user[strings.Index(user, "Title: "):], "Title: "), "\n")
		return "About " + title + "."
	}))
	ts := startLLMServer(t, cs, 5*time.Second)
	code, m, _ := exaDo(t, ts, "/search", `{"query":"volcano erupts","contents":{"summary":{"query":"what makes eruptions"}}}`)
	if code != 200 {
		t.Fatalf("search: %d %v", code, m)
	}
	rs := exaResults(t, m)
	if len(rs) < 2 {
		t.Fatalf("results %v, want both volcano pages", rs)
	}
	for _, r := range rs {
		if r["summary"] != "About "+r["title"].(string)+"." || r["summaryType"] != "llm" || r["text"] != nil {
			t.Errorf("result %v: want the model's summary of its own page, summaryType llm, and no text (not asked for)", r)
		}
	}
	calls := cs.calls()
	if len(calls) != len(rs) {
		t.Fatalf("%d chat requests for %d results, want one each", len(calls), len(rs))
	}
	var volcano []string
	for _, c := range calls {
		b := c.body
		if c.path != "/v1/chat/completions" || b["model"] != "Qwen/Qwen3-8B" || b["stream"] != false || b["max_tokens"] != 300.0 || b["response_format"] != nil {
			t.Errorf("request %s %v: want the configured model, not streamed, max_tokens 300, no response_format", c.path, b)
		}
		msgs := chatMessages(t, b)
		if len(msgs) != 2 || msgs[0][0] != "system" || !strings.Contains(msgs[0][1], "summarise one web page") || msgs[1][0] != "user" {
			t.Fatalf("messages %q: want the summary instructions, then the page", msgs)
		}
		if strings.Contains(msgs[1][1], "geo.example.com/volcano") {
			volcano = append(volcano, msgs[1][1])
		}
	}
	want := "Focus the summary on: what makes eruptions\n\nTitle: How volcanoes erupt\nURL: https://geo.example.com/volcano\n\nA volcano erupts when molten magma rises through the crust. Gas pressure drives the eruption. Lava and ash pour out of the vent."
	if len(volcano) != 1 || volcano[0] != want {
		t.Errorf("the volcano page's request:\n%q\nwant\n%q", volcano, want)
	}
}

func TestExaSummarySchema(t *testing.T) {
	const schema = `{"type":"object","properties":{"cause":{"type":"string"}},"required":["cause"],"additionalProperties":false}`
	var attempts atomic.Int32
	cs := startChatServer(t, chatFunc(func(map[string]any) string {
		if attempts.Add(1) == 1 {
			return `{"reason": "magma"}` // invalid: no cause, an extra field
		}
		return "```json\n{\"cause\": \"magma rising\"}\n```"
	}))
	ts := startLLMServer(t, cs, 5*time.Second)
	code, m, _ := exaDo(t, ts, "/contents", `{"ids":["volcano"],"text":true,"summary":{"schema":`+schema+`}}`)
	rs := exaResults(t, m)
	if code != 200 || len(rs) != 1 {
		t.Fatalf("contents: %d %v", code, m)
	}
	if rs[0]["summary"] != `{"cause":"magma rising"}` || rs[0]["summaryType"] != "llm" || rs[0]["text"] == nil {
		t.Errorf("result %v: want the corrected JSON as the summary string, and the text asked for", rs[0])
	}
	calls := cs.calls()
	if len(calls) != 2 {
		t.Fatalf("%d chat requests, want the first and one correction", len(calls))
	}
	for _, c := range calls {
		js := responseSchema(c.body)
		got, _ := json.Marshal(js["schema"])
		var want any
		_ = json.Unmarshal([]byte(schema), &want)
		wantJSON, _ := json.Marshal(want)
		if c.body["response_format"].(map[string]any)["type"] != "json_schema" || js["name"] != "summary" || js["strict"] != true || string(got) != string(wantJSON) {
			t.Errorf("response_format %v: want json_schema %s", c.body["response_format"], schema)
		}
		if sys := chatMessages(t, c.body)[0][1]; !strings.Contains(sys, schema) {
			t.Errorf("system message %q: want the schema in it too, for servers without constrained decoding", sys)
		}
	}
	second := chatMessages(t, calls[1].body)
	if len(second) != 4 || second[2] != [2]string{"assistant", `{"reason": "magma"}`} || second[3][0] != "user" ||
		!strings.Contains(second[3][1], "does not match the schema") || !strings.Contains(second[3][1], "cause") {
		t.Errorf("correction request %q: want the invalid reply and what is wrong with it", second)
	}

	// Invalid twice: the summary is left out, and a warning says why.
	bad := startChatServer(t, chatJSON(`{"cause": 7}`))
	ts = startLLMServer(t, bad, 5*time.Second)
	_, m, _ = exaDo(t, ts, "/contents", `{"ids":["volcano"],"summary":{"schema":`+schema+`}}`)
	rs = exaResults(t, m)
	w, _ := json.Marshal(m["warnings"])
	if len(rs) != 1 || rs[0]["summary"] != nil || !strings.Contains(string(w), "does not match the schema") || len(bad.calls()) != 2 {
		t.Errorf("%v, warnings %s, %d requests: want no summary, a warning, two attempts", rs, w, len(bad.calls()))
	}
}

func TestExaSummaryExtractive(t *testing.T) {
	ts := startServer(t, serverSetup{})
	code, m, _ := exaDo(t, ts, "/search", `{"query":"volcano","numResults":5,"contents":{"summary":{"query":"gas pressure"}}}`)
	if code != 200 {
		t.Fatalf("search: %d %v", code, m)
	}
	var found bool
	for _, r := range exaResults(t, m) {
		if r["summaryType"] != "extractive" || r["summary"] == "" {
			t.Errorf("result %v: want an extractive summary", r)
		}
		if r["id"] == "volcano" {
			found = true
			// The sentence that shares the summary's query words comes
			// first; the rest follow in the page's order.
			if want := "A volcano erupts when molten magma rises through the crust. Gas pressure drives the eruption. Lava and ash pour out of the vent."; r["summary"] != want {
				t.Errorf("volcano's summary %q, want %q", r["summary"], want)
			}
		}
	}
	// The summary reads the text, beyond the 20 characters the caller
	// asked to see.
	_, m2, _ := exaDo(t, ts, "/contents", `{"ids":["volcano"],"text":{"maxCharacters":20},"summary":true}`)
	if rs := exaResults(t, m2); len(rs) != 1 || rs[0]["text"] != "A volcano erupts whe" || !strings.HasSuffix(rs[0]["summary"].(string), "pour out of the vent.") {
		t.Errorf("text cut to 20 with a summary: %v, want the text cut and the whole summary", rs)
	}
	w, _ := json.Marshal(m["warnings"])
	if !found || !strings.Contains(string(w), "extractive") || !strings.Contains(string(w), "--answer-url") {
		t.Errorf("warnings %s: want the volcano page, and a warning that summaries are extractive naming --answer-url", w)
	}
}

func TestExaSummaryRefused(t *testing.T) {
	ts := startServer(t, serverSetup{})
	for _, tc := range []struct {
		name, body string
		code       int
		tag, want  string
	}{
		{"schema without a chat server", `{"query":"volcano","contents":{"summary":{"schema":{"type":"object"}}}}`, 501, "NOT_IMPLEMENTED", "--answer-url"},
		{"not a schema", `{"query":"volcano","contents":{"summary":{"schema":{"type":"thing"}}}}`, 400, "INVALID_REQUEST_BODY", "contents.summary.schema: not a valid JSON Schema"},
		{"a file reference", `{"urls":["https://geo.example.com/volcano"],"summary":{"schema":{"$ref":"file:///etc/passwd"}}}`, 400, "INVALID_REQUEST_BODY", "contents.summary.schema"},
		{"summary not an object", `{"query":"volcano","contents":{"summary":"short"}}`, 400, "INVALID_REQUEST_BODY", "contents.summary: must be true, false or"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/search"
			if strings.Contains(tc.body, "urls") {
				path = "/contents"
			}
			code, m, _ := exaDo(t, ts, path, tc.body)
			msg, _ := m["error"].(string)
			if code != tc.code || m["tag"] != tc.tag || !strings.Contains(msg, tc.want) {
				t.Errorf("%d %v: want %d %s naming %q", code, m, tc.code, tc.tag, tc.want)
			}
			if strings.Contains(msg, "root:") {
				t.Errorf("error %q quotes a local file", msg)
			}
		})
	}
}

func TestExaContext(t *testing.T) {
	ts := startServer(t, serverSetup{})
	const volcano = "Title: How volcanoes erupt\nURL: https://geo.example.com/volcano\nPublished: 2021-03-01T00:00:00.000Z\nA volcano erupts when molten magma rises through the crust. Gas pressure drives the eruption. Lava and ash pour out of the vent."
	for _, tc := range []struct {
		path, body string
		want       string // the context starts with it
		max        int
	}{
		{"/search", `{"query":"volcano erupts","context":true}`, volcano + "\n\nTitle: Merapi erupts again\n", 0},
		{"/search", `{"query":"volcano erupts","contents":{"context":{"maxCharacters":40}}}`, volcano[:40], 40},
		{"/search", `{"query":"volcano erupts","contents":{"highlights":{"numSentences":1},"context":true}}`, "Title: How volcanoes erupt\nURL: https://geo.example.com/volcano\nPublished: 2021-03-01T00:00:00.000Z\nA volcano erupts when molten magma rises through the crust.\n\n", 0},
		{"/search", `{"query":"volcano erupts","contents":{"text":{"maxCharacters":20},"context":true}}`, volcano[:strings.Index(volcano, "A volcano")+20] + "\n\nTitle: Merapi erupts again\n", 0},
		{"/findSimilar", `{"url":"https://geo.example.com/volcano","context":true}`, "Title: Merapi erupts again\nURL: https://news.example.com/merapi\n", 0},
		{"/contents", `{"ids":["jazz"],"context":true}`, "Title: The birth of jazz\nURL: https://music.example.org/jazz\nJazz grew out of blues", 0},
	} {
		code, m, _ := exaDo(t, ts, tc.path, tc.body)
		got, _ := m["context"].(string)
		if code != 200 || !strings.HasPrefix(got, tc.want) || (tc.max > 0 && len([]rune(got)) > tc.max) {
			t.Errorf("%s %s: %d context %q, want it to start %q (at most %d characters)", tc.path, tc.body, code, got, tc.want, tc.max)
		}
	}
	// Without context, there is none.
	if _, m, _ := exaDo(t, ts, "/search", `{"query":"volcano erupts"}`); m["context"] != nil {
		t.Errorf("context %v, not asked for", m["context"])
	}
	code, m, _ := exaDo(t, ts, "/search", `{"query":"volcano","context":{"maxCharacters":-1}}`)
	if msg, _ := m["error"].(string); code != 400 || !strings.Contains(msg, "context.maxCharacters") {
		t.Errorf("negative maxCharacters: %d %v, want a 400 naming context.maxCharacters", code, m)
	}
}

// TestExaSummaryLLMFails: a model that fails or does not answer in time
// leaves extractive summaries, each with a warning.
func TestExaSummaryLLMFails(t *testing.T) {
	cs := startChatServer(t, func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	ts := startLLMServer(t, cs, 150*time.Millisecond)
	code, m, _ := exaDo(t, ts, "/search", `{"query":"volcano erupts","contents":{"summary":true}}`)
	rs := exaResults(t, m)
	w, _ := json.Marshal(m["warnings"])
	if code != 200 || len(rs) < 2 || strings.Count(string(w), "did not answer within 150ms; summarised extractively") != len(rs) {
		t.Fatalf("%d %v, warnings %s: want every summary extractive, each with a warning", code, rs, w)
	}
	for _, r := range rs {
		if r["summaryType"] != "extractive" || r["summary"] == "" {
			t.Errorf("result %v: want an extractive summary", r)
		}
	}
}
