package exa_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// streamRead is what a client made of a streamed /answer: the answer's
// pieces joined, and the citations' ids and urls.
type streamRead struct {
	answer    string
	citations []string // "id url"
}

// readAsExaJS reads a stream as exa-js 2.23.0 does (dist/index.js,
// streamChatCompletions and processChunk): the body split at "\n"; only
// lines that start "data: ", the prefix and blanks stripped; "" and
// "[DONE]" skipped, JSON that does not parse skipped; content from
// choices[0].delta.content, citations from a truthy top-level citations
// that is not the string "null", each reduced to id, url, title,
// publishedDate, author and text.
func readAsExaJS(t *testing.T, body string) streamRead {
	t.Helper()
	var out streamRead
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		data := strings.TrimSpace(strings.TrimLeft(strings.TrimPrefix(line, "data:"), " \t"))
		if data == "" || data == "[DONE]" {
			continue
		}
		var chunk struct {
			Choices []struct {
				Delta *struct {
					Content *string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
			Citations json.RawMessage `json:"citations"`
		}
		if json.Unmarshal([]byte(data), &chunk) != nil {
			continue
		}
		if len(chunk.Choices) > 0 && chunk.Choices[0].Delta != nil && chunk.Choices[0].Delta.Content != nil {
			out.answer += *chunk.Choices[0].Delta.Content
		}
		if c := string(chunk.Citations); c != "" && c != "null" && c != `"null"` {
			var cites []struct{ ID, URL string }
			if err := json.Unmarshal(chunk.Citations, &cites); err != nil {
				t.Fatalf("exa-js maps citations as an array: %v: %s", err, c)
			}
			for _, ct := range cites {
				out.citations = append(out.citations, ct.ID+" "+ct.URL)
			}
		}
	}
	return out
}

// readAsExaPy reads a stream as exa-py does (exa_py/api.py,
// StreamAnswerResponse.__iter__): each non-empty line with "data: "
// removed as a prefix; lines that are not JSON ("[DONE]") skipped;
// content from choices[0].delta.get("content") when choices is non-empty
// and has a delta; citations when present, truthy (a non-empty list) and
// not "null", each built as AnswerResult(**to_snake_case(c)), which reads
// c["id"] and c["url"] and fails without them.
func readAsExaPy(t *testing.T, body string) streamRead {
	t.Helper()
	var out streamRead
	for _, line := range strings.FieldsFunc(body, func(r rune) bool { return r == '\n' || r == '\r' }) {
		var chunk map[string]any
		if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &chunk) != nil {
			continue
		}
		if choices, ok := chunk["choices"].([]any); ok && len(choices) > 0 {
			if delta, ok := choices[0].(map[string]any)["delta"].(map[string]any); ok {
				if content, ok := delta["content"].(string); ok {
					out.answer += content
				}
			}
		}
		if cites, ok := chunk["citations"].([]any); ok && len(cites) > 0 {
			for _, c := range cites {
				m := c.(map[string]any)
				id, okID := m["id"].(string)
				u, okURL := m["url"].(string)
				if !okID || !okURL {
					t.Fatalf("exa-py's AnswerResult needs id and url: %v", m)
				}
				out.citations = append(out.citations, id+" "+u)
			}
		}
	}
	return out
}

// readAsSpec reads a stream as a client written from Exa's OpenAPI
// document would: each event an object with a partial answer and
// citations.
func readAsSpec(t *testing.T, body string) streamRead {
	t.Helper()
	var out streamRead
	for _, data := range sseData([]byte(body)) {
		if data == "[DONE]" {
			continue
		}
		var ev struct {
			Answer    string
			Citations []struct{ ID, URL string }
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event is not the spec's object: %v: %s", err, data)
		}
		out.answer += ev.Answer
		for _, c := range ev.Citations {
			out.citations = append(out.citations, c.ID+" "+c.URL)
		}
	}
	return out
}

// The streamed answer, extractive or written by an LLM, reads the same to
// exa-js, to exa-py and to a client written from the spec: the same answer
// as the unstreamed one, and its citations, each with an id and a url
// (a corpus record's too).
func TestExaAnswerStreamSDKParsers(t *testing.T) {
	cs := startChatServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") == "text/event-stream" {
			chatStream("data: [DONE]\n\n", "Magma ", "rises [1]", " and erupts.")(w, r)
			return
		}
		chatJSON("Magma rises [1] and erupts.")(w, r)
	})
	for _, tc := range []struct {
		name string
		ts   *testServer
	}{
		{"extractive", startServer(t, serverSetup{docs: specDocs})},
		{"llm", startLLMServer(t, cs, 5*time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const query = `"query":"why do volcanoes erupt magma"`
			_, plain, _ := exaDo(t, tc.ts, "/answer", `{`+query+`}`)
			wantAnswer, _ := plain["answer"].(string)
			var wantCites []string
			for _, c := range plain["citations"].([]any) {
				m := c.(map[string]any)
				wantCites = append(wantCites, m["id"].(string)+" "+m["url"].(string))
			}
			if wantAnswer == "" || len(wantCites) == 0 {
				t.Fatalf("unstreamed answer %v: want an answer with citations", plain)
			}
			r := tc.ts.do(t, "POST", "/answer", `{`+query+`,"stream":true}`)
			for _, p := range []struct {
				sdk  string
				read func(*testing.T, string) streamRead
			}{{"exa-js", readAsExaJS}, {"exa-py", readAsExaPy}, {"spec", readAsSpec}} {
				got := p.read(t, string(r.body))
				if got.answer != wantAnswer || strings.Join(got.citations, "\n") != strings.Join(wantCites, "\n") {
					t.Errorf("%s reads answer %q and citations %q; want %q and %q\n%s", p.sdk, got.answer, got.citations, wantAnswer, wantCites, r.body)
				}
			}
		})
	}
}
