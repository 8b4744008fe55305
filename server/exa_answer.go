package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
}

// exaAnswerResponse is the answer of POST /answer.
type exaAnswerResponse struct {
	RequestID string      `json:"requestId"`
	Answer    string      `json:"answer"`
	Citations []exaResult `json:"citations"`
	// AnswerType says how the answer was made: "extractive", quoted from
	// the citations, while no LLM is configured.
	AnswerType  string   `json:"answerType"`
	CostDollars exaCost  `json:"costDollars"`
	Warnings    []string `json:"warnings,omitempty"`
}

// answerHandler answers POST /answer from Cari's own results. No LLM is
// configured on this server, so the answer is extractive: the best
// highlight of each of the top results, marked with its citation number.
func (a *exaAPI) answerHandler(c *exaCall, body []byte) (any, error) {
	var req exaAnswerRequest
	warnings, err := decodeExa(body, &req)
	if err != nil {
		return nil, err
	}
	if s := strings.TrimSpace(string(req.OutputSchema)); s != "" && s != "null" {
		return nil, status.Error(codes.Unimplemented, "outputSchema: structured answers need an LLM, which this server does not have")
	}
	contents := &cariv1.ContentsOptions{Highlights: &cariv1.HighlightsOptions{NumSentences: answerSentences, PerUrl: 1}}
	if req.Text {
		contents.Text = &cariv1.TextOptions{}
	}
	resp, err := a.search.Search(c.ctx, &cariv1.SearchRequest{Query: req.Query, NumResults: answerSources, Contents: contents}, c.opts()...)
	if err != nil {
		return nil, err
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
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	flusher, _ := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	type delta struct {
		Content string `json:"content"`
	}
	type choice struct {
		Index int   `json:"index"`
		Delta delta `json:"delta"`
	}
	type chunk struct {
		ID         string      `json:"id"`
		Object     string      `json:"object"`
		Model      string      `json:"model"`
		Choices    []choice    `json:"choices"`
		Citations  []exaResult `json:"citations,omitempty"`
		AnswerType string      `json:"answerType"`
	}
	for piece := range strings.SplitAfterSeq(a.Answer, " ") {
		send(chunk{ID: a.RequestID, Object: "chat.completion.chunk", Model: answerExtractive, Choices: []choice{{Delta: delta{Content: piece}}}, AnswerType: a.AnswerType})
	}
	send(chunk{ID: a.RequestID, Object: "chat.completion.chunk", Model: answerExtractive, Choices: []choice{}, Citations: a.Citations, AnswerType: a.AnswerType})
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}
