package exa

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// Extractive answers quote the best passage of each of the top results.
const (
	answerSources   = 5 // results searched for quotes
	answerQuotes    = 3 // quotes in an answer
	answerSentences = 2 // sentences a quote spans
)

// answerExtractive is the answerType of an answer quoted from the results
// rather than written by an LLM.
const answerExtractive = "extractive"

// exaAnswerRequest is the body of POST /answer.
type exaAnswerRequest struct {
	Query  string `json:"query"`
	Stream bool   `json:"stream"`
	// Text adds each citation's full text.
	Text         bool            `json:"text"`
	Model        string          `json:"model"`
	OutputSchema json.RawMessage `json:"outputSchema"`
	// SystemPrompt is added to Cari's instructions to the chat model.
	SystemPrompt string `json:"systemPrompt"`
}

// exaAnswerResponse is the answer of POST /answer.
type exaAnswerResponse struct {
	RequestID string `json:"requestId"`
	// Answer is the answer's text, or with outputSchema the JSON object
	// (a json.RawMessage).
	Answer    any         `json:"answer"`
	Citations []exaResult `json:"citations"`
	// AnswerType says how the answer was made: "llm", written by the
	// configured LLM from the citations, numbered [1] on; or
	// "extractive", quoted from them, when no LLM is configured or it
	// failed.
	AnswerType string `json:"answerType"`
	// Model is the LLM that wrote an "llm" answer.
	Model string `json:"model,omitempty"`
	// LLMError says why the configured LLM gave no answer (or, streamed,
	// a cut-short one).
	LLMError    string   `json:"llmError,omitempty"`
	CostDollars exaCost  `json:"costDollars"`
	Warnings    []string `json:"warnings,omitempty"`
}

// answerHandler answers POST /answer from Cari's own results: written by
// the configured LLM, citing them as [n]; or, with no LLM or when it fails,
// extractive: the best highlight of each of the top results, marked with
// its citation number.
func (a *exaAPI) answerHandler(c *exaCall, body []byte) (any, error) {
	llm := a.llm
	var req exaAnswerRequest
	if err := decodeExa(body, &req); err != nil {
		return nil, err
	}
	var warnings []string
	schema, err := answerSchema(llm, req.OutputSchema)
	if err != nil {
		return nil, err
	}
	if req.SystemPrompt != "" && llm == nil {
		warnings = append(warnings, "systemPrompt: no chat model server is configured (--answer-url), and extractive answers follow no prompt; ignored")
	}
	contents := &cariv1.ContentsOptions{Highlights: &cariv1.HighlightsOptions{NumSentences: answerSentences, PerUrl: 1}}
	if llm != nil {
		// The LLM reads more of each result; the extractive fallback
		// still quotes only the first highlight.
		contents.Highlights.PerUrl = answerHighlights
	}
	if req.Text {
		contents.Text = &cariv1.TextOptions{}
	}
	resp, err := a.search.Search(c.ctx, &cariv1.SearchRequest{Query: req.Query, NumResults: answerSources, Contents: contents}, c.opts()...)
	if err != nil {
		return nil, err
	}
	a.present(resp)
	if schema != nil {
		out, err := llm.structuredAnswer(c.r.Context(), req.Query, req.SystemPrompt, schema, resp, req.Text)
		if err != nil {
			return nil, err
		}
		out.Warnings = warnings
		if req.Stream {
			streamAnswer(c.w, out)
			return nil, nil
		}
		return out, nil
	}
	if llm != nil && req.Stream {
		llm.streamResponse(c, req.Query, req.SystemPrompt, resp, req.Text, warnings)
		return nil, nil
	}
	if llm != nil {
		out := llm.answerResponse(c.r.Context(), req.Query, req.SystemPrompt, resp, req.Text)
		out.Warnings = append(warnings, out.Warnings...)
		return out, nil
	}
	out := extractiveAnswer(resp, req.Text)
	out.Warnings = warnings
	if req.Stream {
		streamAnswer(c.w, out)
		return nil, nil
	}
	return out, nil
}

// extractiveAnswer quotes the best highlight of each of the top results
// that has one, each followed by its citation number.
func extractiveAnswer(resp *cariv1.SearchResponse, withText bool) *exaAnswerResponse {
	out := &exaAnswerResponse{RequestID: resp.GetRequestId(), Citations: []exaResult{}, AnswerType: answerExtractive}
	var quotes []string
	for _, r := range resp.GetResults() {
		if len(quotes) == answerQuotes {
			break
		}
		if len(r.GetHighlights()) == 0 || strings.TrimSpace(r.GetHighlights()[0]) == "" {
			continue
		}
		cite := exaResultOf(r, exaWant{text: withText}, true)
		out.Citations = append(out.Citations, cite)
		quotes = append(quotes, fmt.Sprintf("%s [%d]", strings.TrimSpace(r.GetHighlights()[0]), len(out.Citations)))
	}
	if len(quotes) == 0 {
		out.Answer = "No indexed document answers this query."
		return out
	}
	out.Answer = strings.Join(quotes, " ")
	return out
}

// streamAnswer writes an answer as Exa streams one: server-sent events of
// OpenAI-style chat completion chunks, the answer in pieces and then the
// citations, ending with [DONE].
func streamAnswer(w http.ResponseWriter, a *exaAnswerResponse) {
	s := newAnswerStream(w, a.RequestID, cmp.Or(a.Model, answerExtractive))
	text, _ := a.Answer.(string)
	if js, ok := a.Answer.(json.RawMessage); ok {
		text = string(js) // a structured answer streams as its JSON
	}
	for piece := range strings.SplitAfterSeq(text, " ") {
		s.piece(piece, a.AnswerType)
	}
	s.finish(a)
}

// answerStream writes the events of a streamed answer.
type answerStream struct {
	w         http.ResponseWriter
	flusher   http.Flusher
	id, model string
}

// answerChunk is one event: an OpenAI-style chat completion chunk, with
// the citations, warnings and answerType of Exa's stream added. A piece
// of the answer goes both in choices[0].delta.content, where exa-js's and
// exa-py's stream parsers read it, and in answer, where the spec's
// text/event-stream schema puts it; citations are where all three read
// them.
type answerChunk struct {
	ID         string         `json:"id"`
	Object     string         `json:"object"`
	Model      string         `json:"model"`
	Answer     string         `json:"answer,omitempty"`
	Choices    []answerChoice `json:"choices"`
	Citations  []exaResult    `json:"citations,omitempty"`
	AnswerType string         `json:"answerType"`
	LLMError   string         `json:"llmError,omitempty"`
	Warnings   []string       `json:"warnings,omitempty"`
}

type answerChoice struct {
	Index int         `json:"index"`
	Delta answerDelta `json:"delta"`
}

type answerDelta struct {
	Content string `json:"content"`
}

// newAnswerStream sets the headers of an event stream on w; model names
// what writes the answer in every chunk.
func newAnswerStream(w http.ResponseWriter, id, model string) *answerStream {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	flusher, _ := w.(http.Flusher)
	return &answerStream{w: w, flusher: flusher, id: id, model: model}
}

func (s *answerStream) send(v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(s.w, "data: %s\n\n", b)
	if s.flusher != nil {
		s.flusher.Flush()
	}
}

// piece sends one piece of the answer.
func (s *answerStream) piece(content, answerType string) {
	s.send(answerChunk{ID: s.id, Object: "chat.completion.chunk", Model: s.model, Answer: content, Choices: []answerChoice{{Delta: answerDelta{Content: content}}}, AnswerType: answerType})
}

// finish sends a's citations, warnings and answer type, then [DONE].
func (s *answerStream) finish(a *exaAnswerResponse) {
	s.send(answerChunk{ID: s.id, Object: "chat.completion.chunk", Model: s.model, Choices: []answerChoice{}, Citations: a.Citations, AnswerType: a.AnswerType, LLMError: a.LLMError, Warnings: a.Warnings})
	fmt.Fprint(s.w, "data: [DONE]\n\n")
	if s.flusher != nil {
		s.flusher.Flush()
	}
}

// answerSchema compiles /answer's outputSchema, which only the chat model
// server can fill in; nil when there is none.
func answerSchema(llm *llmAnswerer, raw json.RawMessage) (*outputSchema, error) {
	if s := strings.TrimSpace(string(raw)); s == "" || s == "null" {
		return nil, nil
	}
	schema, err := compileSchema("outputSchema", raw)
	if err != nil {
		return nil, err
	}
	if llm == nil {
		return nil, needsLLM("outputSchema", "a structured answer")
	}
	return schema, nil
}
