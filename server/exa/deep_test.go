package exa_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestExaDeepSearch(t *testing.T) {
	cs := startChatServer(t, chatJSON(`{"queries": ["jazz New Orleans", "black hole gravity", "JAZZ"]}`))
	ts := startLLMServer(t, cs, 5*time.Second)
	code, m, _ := exaDo(t, ts, "/search", `{"query":"jazz","type":"deep","numResults":5,"contents":{"highlights":true}}`)
	if code != 200 {
		t.Fatalf("deep search: %d %v", code, m)
	}
	rs := exaResults(t, m)
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r["id"].(string)
		if s, _ := r["score"].(float64); s <= 0 || s > 1 {
			t.Errorf("result %v: want a score in (0, 1]", r)
		}
	}
	// jazz is first for two of the three queries; black holes only comes
	// from a variation.
	if len(ids) != 2 || ids[0] != "jazz" || ids[1] != "holes" || m["resolvedSearchType"] != "deep" || m["searchType"] != "deep" {
		t.Fatalf("results %v, resolved %v: want jazz, then holes, fused, as type deep", ids, m["resolvedSearchType"])
	}
	if hl, _ := rs[0]["highlights"].([]any); len(hl) == 0 {
		t.Errorf("jazz %v: want its highlights", rs[0])
	}
	calls := cs.calls()
	if len(calls) != 1 {
		t.Fatalf("%d chat requests, want one for the variations", len(calls))
	}
	js := responseSchema(calls[0].body)
	items, _ := js["schema"].(map[string]any)["properties"].(map[string]any)["queries"].(map[string]any)
	msgs := chatMessages(t, calls[0].body)
	if js["name"] != "query_variations" || items["maxItems"] != 3.0 || msgs[1] != [2]string{"user", "jazz"} || !strings.Contains(msgs[0][1], "up to 3 other search queries") {
		t.Errorf("variations request %v: want 3 variations of the query, as JSON", calls[0].body)
	}
}

func TestExaDeepSearchGivenQueries(t *testing.T) {
	// With additionalQueries, no model is needed, and none is asked.
	cs := startChatServer(t, chatJSON(`{"queries": ["unused"]}`))
	for _, ts := range []*testServer{startServer(t, serverSetup{}), startLLMServer(t, cs, 5*time.Second)} {
		code, m, _ := exaDo(t, ts, "/search", `{"query":"jazz","type":"deep-lite","additionalQueries":["black hole"]}`)
		rs := exaResults(t, m)
		if code != 200 || len(rs) != 2 || rs[0]["id"] != "jazz" || rs[1]["id"] != "holes" {
			t.Errorf("%d %v: want jazz and black holes", code, m)
		}
	}
	if n := len(cs.calls()); n != 0 {
		t.Errorf("%d chat requests, want none", n)
	}
}

func TestExaDeepSearchModelFails(t *testing.T) {
	cs := startChatServer(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusBadRequest) })
	ts := startLLMServer(t, cs, 5*time.Second)
	code, m, _ := exaDo(t, ts, "/search", `{"query":"jazz","type":"deep"}`)
	w, _ := json.Marshal(m["warnings"])
	if rs := exaResults(t, m); code != 200 || len(rs) != 1 || !strings.Contains(string(w), "searched for the query alone") {
		t.Errorf("%d %v: want the query's own results and a warning", code, m)
	}
}

func TestExaDeepSearchRefused(t *testing.T) {
	ts := startServer(t, serverSetup{})
	for _, tc := range []struct {
		body      string
		code      int
		tag, want string
	}{
		{`{"query":"jazz","type":"deep"}`, 501, "NOT_IMPLEMENTED", "type: deep search without additionalQueries (the query variations to search for) needs a chat model server, and this server has none: start cari serve with --answer-url and --answer-model"},
		{`{"query":"jazz","type":"deep-reasoning","outputSchema":{"type":"text"},"additionalQueries":["x"]}`, 501, "NOT_IMPLEMENTED", "outputSchema: synthesized output needs a chat model server"},
		{`{"query":"jazz","additionalQueries":["x"]}`, 400, "INVALID_REQUEST_BODY", "additionalQueries: only works with type deep"},
		{`{"query":"jazz","type":"deep","additionalQueries":["a","b","c","d","e","f"]}`, 400, "INVALID_REQUEST_BODY", "additionalQueries: at most 5"},
		{`{"query":"jazz","type":"deep","additionalQueries":[" "]}`, 400, "INVALID_REQUEST_BODY", "additionalQueries[0]: must not be empty"},
		{`{"query":"jazz","outputSchema":{"type":"list"}}`, 400, "INVALID_REQUEST_BODY", `outputSchema.type: must be "text" or "object"`},
		{`{"query":"jazz","outputSchema":{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"object","properties":{"c":{"type":"string"}}}}}}}}`, 400, "INVALID_REQUEST_BODY", "got 3 levels"},
	} {
		code, m, _ := exaDo(t, ts, "/search", tc.body)
		if msg, _ := m["error"].(string); code != tc.code || m["tag"] != tc.tag || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %v, want %d %s saying %q", tc.body, code, m, tc.code, tc.tag, tc.want)
		}
	}
}

func TestExaSearchOutput(t *testing.T) {
	cs := startChatServer(t, chatFunc(func(body map[string]any) string {
		if responseSchema(body) != nil {
			return `{"country": "Indonesia", "mountain": "Merapi"}`
		}
		return "Merapi erupted on Sunday [2], as magma rose [1][9]."
	}))
	ts := startLLMServer(t, cs, 5*time.Second)

	code, m, _ := exaDo(t, ts, "/search", `{"query":"volcano erupts","systemPrompt":"Prefer news.","outputSchema":{"type":"object","properties":{"country":{"type":"string"},"mountain":{"type":"string"}},"required":["country"]}}`)
	if code != 200 {
		t.Fatalf("search: %d %v", code, m)
	}
	out, _ := json.Marshal(m["output"])
	want := `{"content":{"country":"Indonesia","mountain":"Merapi"},"grounding":[{"citations":[{"title":"Merapi erupts again","url":"https://news.example.com/merapi"}],"confidence":"medium","field":"country"},{"citations":[{"title":"Merapi erupts again","url":"https://news.example.com/merapi"}],"confidence":"medium","field":"mountain"}]}`
	if string(out) != want {
		t.Errorf("output %s\nwant %s", out, want)
	}
	for _, r := range exaResults(t, m) {
		if r["highlights"] != nil || r["text"] != nil {
			t.Errorf("result %v: the output's sources are not shown unless asked for", r)
		}
	}
	calls := cs.calls()
	msgs := chatMessages(t, calls[0].body)
	if len(calls) != 1 || responseSchema(calls[0].body)["name"] != "output" || !strings.HasSuffix(strings.SplitN(msgs[0][1], "\nReply with one JSON", 2)[0], "The user's instructions:\nPrefer news.") ||
		!strings.Contains(msgs[1][1], "Question: volcano erupts") || !strings.Contains(msgs[1][1], "URL: https://news.example.com/merapi") {
		t.Errorf("output request %q: want the system prompt with the caller's, the question and the numbered results", msgs)
	}

	code, m, _ = exaDo(t, ts, "/search", `{"query":"volcano erupts","outputSchema":{"type":"text","description":"One sentence."}}`)
	out, _ = json.Marshal(m["output"])
	if code != 200 || !strings.HasPrefix(string(out), `{"content":"Merapi erupted on Sunday [2], as magma rose [1][9].","grounding":[{"citations":[{"title":"Merapi erupts again","url":"https://news.example.com/merapi"},{"title":"How volcanoes erupt","url":"https://geo.example.com/volcano"}],"confidence":"high","field":"content"}]}`) {
		t.Errorf("text output %d %s: want the text, grounded by the two results it cites ([9] is none)", code, out)
	}
	last := cs.calls()[len(cs.calls())-1]
	if sys := chatMessages(t, last.body)[0][1]; last.body["response_format"] != nil || !strings.Contains(sys, "Write the answer as follows: One sentence.") {
		t.Errorf("text output request %v: want the description in the prompt and no response_format", last.body)
	}
}

func TestExaAnswerOutputSchema(t *testing.T) {
	const schema = `{"type":"object","properties":{"cause":{"type":"string"}},"required":["cause"]}`
	cs := startChatServer(t, chatJSON(`{"cause": "magma rising through the crust"}`))
	ts := startLLMServer(t, cs, 5*time.Second)
	code, m, _ := exaDo(t, ts, "/answer", `{"query":"why do volcanoes erupt","systemPrompt":"Be brief.","outputSchema":`+schema+`}`)
	if a, _ := m["answer"].(map[string]any); code != 200 || a["cause"] != "magma rising through the crust" || m["answerType"] != "llm" || len(m["citations"].([]any)) == 0 {
		t.Fatalf("answer %d %v: want the object, from the LLM, with citations", code, m)
	}
	c := cs.calls()[0].body
	if responseSchema(c)["name"] != "answer" || !strings.Contains(chatMessages(t, c)[0][1], "Be brief.") {
		t.Errorf("request %v: want response_format named answer and the caller's system prompt", c)
	}

	r := ts.do(t, "POST", "/answer", `{"query":"why do volcanoes erupt","stream":true,"outputSchema":`+schema+`}`)
	chunks, done := sseChunks(t, string(r.body))
	if !done || streamedText(chunks) != `{"cause":"magma rising through the crust"}` || chunks[0]["model"] != "Qwen/Qwen3-8B" {
		t.Errorf("streamed structured answer:\n%s\nwant the JSON as the content, from the model", r.body)
	}

	plain := startServer(t, serverSetup{})
	code, m, _ = exaDo(t, plain, "/answer", `{"query":"why do volcanoes erupt","outputSchema":`+schema+`}`)
	if msg, _ := m["error"].(string); code != 501 || !strings.Contains(msg, "outputSchema") || !strings.Contains(msg, "--answer-url") {
		t.Errorf("without a chat server: %d %v, want a 501 naming outputSchema and --answer-url", code, m)
	}
	code, m, _ = exaDo(t, plain, "/answer", `{"query":"why do volcanoes erupt","systemPrompt":"Be brief."}`)
	if w, _ := json.Marshal(m["warnings"]); code != 200 || !strings.Contains(string(w), "systemPrompt") {
		t.Errorf("systemPrompt without a chat server: %d %s, want a warning", code, w)
	}

	bad := startChatServer(t, chatJSON(`{"cause": 1}`))
	ts = startLLMServer(t, bad, 5*time.Second)
	code, m, _ = exaDo(t, ts, "/answer", `{"query":"why do volcanoes erupt","outputSchema":`+schema+`}`)
	if msg, _ := m["error"].(string); code != 503 || !strings.Contains(msg, "does not match the schema") {
		t.Errorf("invalid twice: %d %v, want a 503 saying why", code, m)
	}
}

// TestExaAutoprompt checks useAutoprompt: the chat model server rewrites
// the query (asked once, as a query variation), the search runs the
// rewrite and autopromptString reports it; without a server it is a 501
// naming the setting.
func TestExaAutoprompt(t *testing.T) {
	cs := startChatServer(t, chatJSON(`{"queries": ["black hole gravity"]}`))
	ts := startLLMServer(t, cs, 5*time.Second)
	code, m, _ := exaDo(t, ts, "/search", `{"query":"space","type":"keyword","useAutoprompt":true,"systemPrompt":"prefer physics"}`)
	rs := exaResults(t, m)
	if code != 200 || len(rs) != 1 || rs[0]["id"] != "holes" || m["autopromptString"] != "black hole gravity" {
		t.Fatalf("%d %v: want the rewrite's result, holes, and autopromptString", code, m)
	}
	if w, _ := json.Marshal(m["warnings"]); strings.Contains(string(w), "systemPrompt") {
		t.Errorf("warnings %s: systemPrompt guides the rewrite", w)
	}
	calls := cs.calls()
	if len(calls) != 1 {
		t.Fatalf("%d chat requests, want one for the rewrite", len(calls))
	}
	msgs := chatMessages(t, calls[0].body)
	if msgs[1] != [2]string{"user", "space"} || !strings.Contains(msgs[0][1], "up to 1 other search queries") || !strings.Contains(msgs[0][1], "prefer physics") {
		t.Errorf("rewrite request %v: want one variation of the query, with the system prompt", calls[0].body)
	}
	code, m, _ = exaDo(t, startServer(t, serverSetup{}), "/search", `{"query":"space","useAutoprompt":true}`)
	if msg, _ := m["error"].(string); code != 501 || !strings.HasPrefix(msg, "useAutoprompt: rewriting the query needs a chat model server") {
		t.Errorf("without a chat model server: %d %v, want a 501 naming useAutoprompt", code, m)
	}
}
