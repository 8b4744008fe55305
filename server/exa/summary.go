package exa

// Summaries of results (Exa's contents.summary): written by the chat model
// server (--answer-url) from each result's text, directed by summary.query
// and shaped by summary.schema; with no server, extractive: sentences of
// the text itself, marked summaryType "extractive".

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cari-search/cari"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

const (
	// summarySourceChars is how much of a result's text a summary reads.
	summarySourceChars = 8000
	// summaryParallel bounds the summaries written at once, so that one
	// request of 100 results does not queue 100 requests at the model.
	summaryParallel = 4
	// Extractive summaries: this many sentences, at most this long.
	extractiveSentences = 3
	extractiveChars     = 600
)

// summaryType values: who wrote a result's summary.
const (
	summaryLLM        = answerLLM
	summaryExtractive = answerExtractive
)

// summarySystemPrompt tells the model how to summarise one page.
const summarySystemPrompt = `You summarise one web page for a search result.
Use only the page's text. Write two to four plain sentences, without a preamble and without Markdown.`

// exaSummary is true, false, or {"query": ..., "schema": {...}}.
type exaSummary struct {
	On     bool
	Query  string
	Schema json.RawMessage
}

func (s *exaSummary) UnmarshalJSON(b []byte) error {
	if on, ok := jsonBool(b); ok {
		*s = exaSummary{On: on}
		return nil
	}
	var o struct {
		Query  string          `json:"query"`
		Schema json.RawMessage `json:"schema"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return badRequest("contents.summary: must be true, false or {\"query\": ..., \"schema\": {...}}: %v", err)
	}
	*s = exaSummary{On: true, Query: o.Query, Schema: o.Schema}
	if string(s.Schema) == "null" {
		s.Schema = nil
	}
	return nil
}

// summaryPlan is a request's summary, checked.
type summaryPlan struct {
	query  string        // directs the summary; the search query if unset
	schema *outputSchema // nil: prose
}

// planSummary checks s: a schema compiles, and needs the chat model
// server, since no extractive summary can fill one in.
func (a *exaAPI) planSummary(s *exaSummary) (*summaryPlan, error) {
	if s == nil || !s.On {
		return nil, nil
	}
	p := &summaryPlan{query: s.Query}
	if len(s.Schema) > 0 {
		var err error
		if p.schema, err = compileSchema("contents.summary.schema", s.Schema); err != nil {
			return nil, err
		}
		if a.llm == nil {
			return nil, needsLLM("contents.summary.schema", "a structured summary")
		}
	}
	return p, nil
}

// needsLLM is the 501 of a feature that only the chat model server can
// provide, naming the setting that configures one.
func needsLLM(field, what string) error {
	return status.Errorf(codes.Unimplemented, "%s: %s needs a chat model server, and this server has none: start cari serve with --answer-url and --answer-model (or CARI_ANSWER_URL and CARI_ANSWER_MODEL) naming an OpenAI-compatible one such as vLLM, llama.cpp or Ollama", field, what)
}

// summarize writes a summary into each of out, from results' texts (the
// same order), and returns warnings about those it could not write.
func (a *exaAPI) summarize(ctx context.Context, p *summaryPlan, searchQuery string, results []*cariv1.Result, out []exaResult) []string {
	query := p.query
	if query == "" {
		query = searchQuery
	}
	if a.llm == nil {
		for i, r := range results {
			out[i].Summary, out[i].SummaryType = new(a.extractiveSummary(r.GetText(), query)), summaryExtractive
		}
		if len(results) == 0 {
			return nil
		}
		return []string{"summary: no chat model server is configured (--answer-url); summaries are extractive, sentences quoted from each page (summaryType \"extractive\")"}
	}
	// The summaries of one request share one deadline, so that a slow
	// model delays the response by --answer-timeout at most, however many
	// results there are.
	ctx, cancel := context.WithTimeout(ctx, a.llm.opts.Timeout)
	defer cancel()
	warnings := make([]string, len(results))
	var wg sync.WaitGroup
	sem := make(chan struct{}, summaryParallel)
	for i, r := range results {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			warnings[i] = a.summarizeOne(ctx, p, query, r, &out[i])
		}()
	}
	wg.Wait()
	var ws []string
	for _, w := range warnings {
		if w != "" {
			ws = append(ws, w)
		}
	}
	return ws
}

// summarizeOne asks the model for r's summary within ctx; on failure a prose summary
// falls back to the extractive one, and a structured one is left out.
// It returns a warning saying what failed, or "".
func (a *exaAPI) summarizeOne(ctx context.Context, p *summaryPlan, query string, r *cariv1.Result, out *exaResult) string {
	l := a.llm
	user := summaryPrompt(query, r)
	if p.schema != nil {
		js, err := l.structured(ctx, summarySystemPrompt, user, "summary", p.schema)
		if err != nil {
			l.log.Warn("summary LLM failed", "model", l.opts.Model, "url", r.GetUrl(), "error", err)
			return fmt.Sprintf("summary of %s: %s; left out", resultName(r), l.describeLLMError(err))
		}
		// Exa's summary is a string; a structured one is its JSON.
		out.Summary, out.SummaryType = new(string(js)), summaryLLM
		return ""
	}
	text, err := l.complete(ctx, l.chatRequest(summarySystemPrompt, user))
	if err != nil {
		l.log.Warn("summary LLM failed", "model", l.opts.Model, "url", r.GetUrl(), "error", err)
		out.Summary, out.SummaryType = new(a.extractiveSummary(r.GetText(), query)), summaryExtractive
		return fmt.Sprintf("summary of %s: %s; summarised extractively", resultName(r), l.describeLLMError(err))
	}
	out.Summary, out.SummaryType = new(text), summaryLLM
	return ""
}

// summaryPrompt is the user message asking for r's summary.
func summaryPrompt(query string, r *cariv1.Result) string {
	var b strings.Builder
	if query != "" {
		fmt.Fprintf(&b, "Focus the summary on: %s\n\n", query)
	}
	fmt.Fprintf(&b, "Title: %s\nURL: %s\n\n%s", r.GetTitle(), r.GetUrl(), cari.Truncate(strings.TrimSpace(r.GetText()), summarySourceChars, "…"))
	return b.String()
}

// resultName names a result in a warning: its URL, else its ID.
func resultName(r *cariv1.Result) string {
	if r.GetUrl() != "" {
		return r.GetUrl()
	}
	return r.GetId()
}
