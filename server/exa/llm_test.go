package exa_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari/internal/chattest"
	"github.com/cari-search/cari/server"
	"github.com/cari-search/cari/server/exa"
)

// chatServer is the shared chat test server (internal/chattest), which
// records the requests it gets, answering each with one reply.
type chatServer struct{ *chattest.Server }

type chatCall struct {
	path, auth string
	body       map[string]any
}

func startChatServer(t *testing.T, reply http.HandlerFunc) *chatServer {
	t.Helper()
	return &chatServer{chattest.Start(t).Repeat(reply)}
}

func (cs *chatServer) calls() []chatCall {
	var out []chatCall
	for _, c := range cs.Calls() {
		out = append(out, chatCall{path: c.Path, auth: c.Auth, body: c.Body})
	}
	return out
}

// chatJSON answers with one chat completion holding content.
func chatJSON(content string) http.HandlerFunc { return chattest.Reply(content) }

// chatStream streams pieces as chat completion chunks, then tail (the
// [DONE] line, or something else).
func chatStream(tail string, pieces ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"}}]}`+"\n\n")
		for _, p := range pieces {
			fmt.Fprintf(w, `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":%q},"finish_reason":null}]}`+"\n\n", p)
			w.(http.Flusher).Flush()
		}
		fmt.Fprint(w, tail)
	}
}

func startLLMServer(t *testing.T, cs *chatServer, timeout time.Duration) *testServer {
	t.Helper()
	return startServer(t, serverSetup{opts: func(o *server.Options) {
		o.Answer = exa.AnswerOptions{URL: cs.URL + "/v1/", Model: "Qwen/Qwen3-8B", APIKey: "llm-key", Timeout: timeout, MaxTokens: 300}
	}})
}

// sseChunks decodes a streamed answer's events; done says it ended with
// [DONE].
func sseChunks(t *testing.T, body string) (chunks []map[string]any, done bool) {
	t.Helper()
	for ev := range strings.SplitSeq(strings.TrimSpace(body), "\n\n") {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok {
			t.Fatalf("event %q is not a data line", ev)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		chunks = append(chunks, m)
	}
	return chunks, done
}

// streamedText joins the delta contents of chunks.
func streamedText(chunks []map[string]any) string {
	var b strings.Builder
	for _, c := range chunks {
		for _, ch := range c["choices"].([]any) {
			b.WriteString(ch.(map[string]any)["delta"].(map[string]any)["content"].(string))
		}
	}
	return b.String()
}

func TestExaAnswerLLM(t *testing.T) {
	cs := startChatServer(t, chatJSON("Magma rises through the crust and erupts [1]."))
	ts := startLLMServer(t, cs, 5*time.Second)
	code, m, _ := exaDo(t, ts, "/answer", `{"query":"why do volcanoes erupt","text":true}`)
	if code != 200 {
		t.Fatalf("answer: %d %v", code, m)
	}
	cites, _ := m["citations"].([]any)
	if m["answerType"] != "llm" || m["answer"] != "Magma rises through the crust and erupts [1]." || m["model"] != "Qwen/Qwen3-8B" || m["llmError"] != nil || len(cites) == 0 {
		t.Fatalf("answer %v: want the LLM's answer with citations", m)
	}
	if c := cites[0].(map[string]any); c["url"] != "https://geo.example.com/volcano" || c["text"] == nil {
		t.Errorf("citation [1] %v: want the volcano page with its text", c)
	}

	calls := cs.calls()
	if len(calls) != 1 {
		t.Fatalf("%d chat requests, want 1", len(calls))
	}
	req := calls[0]
	if req.path != "/v1/chat/completions" || req.auth != "Bearer llm-key" {
		t.Errorf("request to %s with Authorization %q, want /v1/chat/completions with the key", req.path, req.auth)
	}
	b := req.body
	if b["model"] != "Qwen/Qwen3-8B" || b["stream"] != false || b["temperature"] != 0.2 || b["max_tokens"] != 300.0 {
		t.Errorf("request %v: want model, stream false, temperature 0.2, max_tokens 300", b)
	}
	if kw, _ := b["chat_template_kwargs"].(map[string]any); kw["enable_thinking"] != false {
		t.Errorf("chat_template_kwargs %v, want enable_thinking false", b["chat_template_kwargs"])
	}
	msgs, _ := b["messages"].([]any)
	if len(msgs) != 2 {
		t.Fatalf("messages %v, want system and user", msgs)
	}
	sys, user := msgs[0].(map[string]any), msgs[1].(map[string]any)
	if sys["role"] != "system" || !strings.Contains(sys["content"].(string), "[1]") || user["role"] != "user" {
		t.Errorf("messages %v: want a system prompt asking for [n] citations, then the user's", msgs)
	}
	u := user["content"].(string)
	for _, want := range []string{"Question: why do volcanoes erupt", "[1] How volcanoes erupt\nURL: https://geo.example.com/volcano\n", "[2] "} {
		if !strings.Contains(u, want) {
			t.Errorf("user message lacks %q:\n%s", want, u)
		}
	}
	if len(cites) != strings.Count(u, "\nURL: ") {
		t.Errorf("%d citations for %d numbered sources", len(cites), strings.Count(u, "\nURL: "))
	}
}

func TestExaAnswerLLMStream(t *testing.T) {
	cs := startChatServer(t, chatStream("data: [DONE]\n\n", "Magma", " rises", " [1]."))
	ts := startLLMServer(t, cs, 5*time.Second)
	r := ts.do(t, "POST", "/answer", `{"query":"why do volcanoes erupt","stream":true}`)
	if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("streamed answer: %d %s\n%s", r.code, r.header.Get("Content-Type"), r.body)
	}
	chunks, done := sseChunks(t, string(r.body))
	if !done || len(chunks) != 4 {
		t.Fatalf("%d chunks, [DONE] %v, want 3 pieces, the citations and [DONE]:\n%s", len(chunks), done, r.body)
	}
	if got := streamedText(chunks); got != "Magma rises [1]." {
		t.Errorf("streamed %q, want the model's pieces passed through", got)
	}
	for _, c := range chunks {
		if c["answerType"] != "llm" || c["model"] != "Qwen/Qwen3-8B" || c["object"] != "chat.completion.chunk" {
			t.Errorf("chunk %v: want an llm chat.completion.chunk naming the model", c)
		}
	}
	if last := chunks[len(chunks)-1]; len(last["citations"].([]any)) == 0 || last["llmError"] != nil {
		t.Errorf("last chunk %v: want the citations and no error", last)
	}
	if calls := cs.calls(); len(calls) != 1 || calls[0].body["stream"] != true {
		t.Errorf("chat requests %v, want one with stream true", calls)
	}
}

func TestExaAnswerLLMFallback(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reply  http.HandlerFunc
		stream bool
		reason string
		calls  int
		// timeout bounds the LLM's answer (default 2s).
		timeout time.Duration
	}{
		{"500 retried once", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, `{"error":{"message":"model is loading"}}`, http.StatusInternalServerError)
		}, false, "HTTP 500: model is loading", 2, 0},
		{"400 not retried", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, `{"error":"unknown model"}`, http.StatusBadRequest)
		}, false, "HTTP 400: unknown model", 1, 0},
		{"not JSON", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "<html>") }, false, "malformed answer", 1, 0},
		{"no choices", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"choices":[]}`) }, false, "no choices[0].message.content", 1, 0},
		{"only thinking", chatJSON("<think>hmm</think>  "), false, "empty", 1, 0},
		{"timeout", func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, false, "did not answer within 150ms", 1, 150 * time.Millisecond},
		{"stream 503", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "busy", http.StatusServiceUnavailable) }, true, "HTTP 503: busy", 2, 0},
		{"stream empty", chatStream("data: [DONE]\n\n"), true, "empty", 1, 0},
		{"stream malformed", chatStream("data: {oops\n\n"), true, "malformed stream event", 1, 0},
		{"stream timeout", func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, true, "did not answer within 150ms", 1, 150 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each case has its own servers and mostly waits: on the
			// store's commits, a retry's delay or a timeout.
			t.Parallel()
			cs := startChatServer(t, tc.reply)
			if tc.timeout == 0 {
				tc.timeout = 2 * time.Second
			}
			ts := startLLMServer(t, cs, tc.timeout)
			body := fmt.Sprintf(`{"query":"why do volcanoes erupt","stream":%v}`, tc.stream)
			var m map[string]any
			if tc.stream {
				r := ts.do(t, "POST", "/answer", body)
				chunks, done := sseChunks(t, string(r.body))
				if r.code != 200 || !done || len(chunks) < 2 {
					t.Fatalf("streamed fallback: %d\n%s", r.code, r.body)
				}
				m = chunks[len(chunks)-1]
				m["answer"] = streamedText(chunks)
			} else {
				var code int
				code, m, _ = exaDo(t, ts, "/answer", body)
				if code != 200 {
					t.Fatalf("answer: %d %v", code, m)
				}
			}
			msg, _ := m["llmError"].(string)
			w, _ := json.Marshal(m["warnings"])
			if m["answerType"] != "extractive" || !strings.Contains(m["answer"].(string), "[1]") || !strings.Contains(msg, tc.reason) ||
				!strings.Contains(string(w), "answered extractively") {
				t.Errorf("answer %v: want an extractive answer whose llmError says %q and a warning", m, tc.reason)
			}
			if n := len(cs.calls()); n != tc.calls {
				t.Errorf("%d chat requests, want %d", n, tc.calls)
			}
		})
	}
}

// TestExaAnswerLLMStreamBrokenOff: once the model's words are on their
// way, a failure ends the answer there and says so.
func TestExaAnswerLLMStreamBrokenOff(t *testing.T) {
	cs := startChatServer(t, chatStream("data: {oops\n\n", "Magma", " rises"))
	ts := startLLMServer(t, cs, 5*time.Second)
	r := ts.do(t, "POST", "/answer", `{"query":"why do volcanoes erupt","stream":true}`)
	chunks, done := sseChunks(t, string(r.body))
	if r.code != 200 || !done || streamedText(chunks) != "Magma rises" {
		t.Fatalf("streamed answer: %d\n%s", r.code, r.body)
	}
	last := chunks[len(chunks)-1]
	w, _ := json.Marshal(last["warnings"])
	if last["answerType"] != "llm" || !strings.Contains(last["llmError"].(string), "malformed stream event") || !strings.Contains(string(w), "incomplete") {
		t.Errorf("last chunk %v: want answerType llm, the error and a warning that the answer is incomplete", last)
	}
}
