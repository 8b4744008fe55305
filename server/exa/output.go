package exa

// Output synthesized by the chat model from the top results: /search's
// output (outputSchema) and /answer's structured answer (its
// outputSchema).

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// outputSystemPrompt tells the model how to fill in a JSON object.
const outputSystemPrompt = `You fill in a JSON object from the numbered search results you are given, to answer the user's question.
Use only what the results say. Where they do not say, use null if the schema allows it, or the schema's closest empty value.`

// synthesize writes the output p asks for from resp's top results. When
// the model fails, the search still answers, without output, and the
// returned warning says why.
func (a *exaAPI) synthesize(ctx context.Context, p *deepPlan, query string, resp *cariv1.SearchResponse) (*deepOutput, string) {
	l := a.llm
	sources, _ := llmSources(resp, false)
	if len(sources) == 0 {
		return nil, "outputSchema: no result has text to write the output from; no output"
	}
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	user := answerPrompt(query, sources)
	if p.output.schema == nil {
		system := answerSystemPrompt
		if p.output.description != "" {
			system += "\nWrite the answer as follows: " + p.output.description
		}
		text, err := l.complete(ctx, l.chatRequest(withSystemPrompt(system, p.systemPrompt), user))
		if err != nil {
			l.log.Warn("output LLM failed", "model", l.opts.Model, "error", err)
			return nil, "outputSchema: " + l.describeLLMError(err) + "; no output"
		}
		return &deepOutput{Content: text, Grounding: []deepGrounding{textGrounding("content", text, sources)}}, ""
	}
	js, err := l.structured(ctx, withSystemPrompt(outputSystemPrompt, p.systemPrompt), user, "output", p.output.schema)
	if err != nil {
		l.log.Warn("output LLM failed", "model", l.opts.Model, "error", err)
		return nil, "outputSchema: " + l.describeLLMError(err) + "; no output"
	}
	return &deepOutput{Content: js, Grounding: objectGrounding(js, sources)}, ""
}

// citationMark is a citation such as [2] in a written answer.
var citationMark = regexp.MustCompile(`\[(\d+)\]`)

// textGrounding cites the sources that text cites by number.
func textGrounding(field, text string, sources []answerSource) deepGrounding {
	var nums []int
	for _, m := range citationMark.FindAllStringSubmatch(text, -1) {
		if n, err := strconv.Atoi(m[1]); err == nil && n >= 1 && n <= len(sources) && !slices.Contains(nums, n) {
			nums = append(nums, n)
		}
	}
	g := deepGrounding{Field: field, Citations: []deepCitation{}}
	for _, n := range nums {
		g.Citations = append(g.Citations, deepCitation{URL: sources[n-1].url, Title: sources[n-1].title})
	}
	g.Confidence = confidenceOf(len(g.Citations))
	return g
}

// objectGrounding cites, for each top-level field of the object js, the
// sources whose excerpt contains one of the field's values (strings and
// numbers, at any depth) as written.
func objectGrounding(js json.RawMessage, sources []answerSource) []deepGrounding {
	var obj map[string]any
	if json.Unmarshal(js, &obj) != nil {
		return []deepGrounding{}
	}
	fields := make([]string, 0, len(obj))
	for k := range obj {
		fields = append(fields, k)
	}
	slices.Sort(fields)
	out := make([]deepGrounding, 0, len(fields))
	for _, f := range fields {
		values := leafValues(obj[f])
		g := deepGrounding{Field: f, Citations: []deepCitation{}}
		for _, s := range sources {
			excerpt := strings.ToLower(s.excerpt)
			if slices.ContainsFunc(values, func(v string) bool { return strings.Contains(excerpt, v) }) {
				g.Citations = append(g.Citations, deepCitation{URL: s.url, Title: s.title})
			}
		}
		g.Confidence = confidenceOf(len(g.Citations))
		out = append(out, g)
	}
	return out
}

// leafValues are v's strings (of three characters or more) and numbers,
// lower-cased, at any depth.
func leafValues(v any) []string {
	switch v := v.(type) {
	case string:
		if len([]rune(strings.TrimSpace(v))) >= 3 {
			return []string{strings.ToLower(strings.TrimSpace(v))}
		}
	case float64:
		return []string{strconv.FormatFloat(v, 'f', -1, 64)}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, leafValues(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, e := range v {
			out = append(out, leafValues(e)...)
		}
		return out
	}
	return nil
}

// confidenceOf grades a field by how many results support it.
func confidenceOf(citations int) string {
	switch {
	case citations >= 2:
		return "high"
	case citations == 1:
		return "medium"
	}
	return "low"
}

// structuredAnswer answers /answer's outputSchema: the answer is a JSON
// object valid against schema, written by the model from resp's results.
// With no result to write from, or when the model fails, the request
// fails: there is no extractive answer that fits a caller's schema.
func (l *llmAnswerer) structuredAnswer(ctx context.Context, query, systemPrompt string, schema *outputSchema, resp *cariv1.SearchResponse, withText bool) (*exaAnswerResponse, error) {
	sources, cites := llmSources(resp, withText)
	if len(sources) == 0 {
		return nil, status.Errorf(codes.NotFound, "outputSchema: no indexed document answers %q, so there is nothing to fill the schema from", query)
	}
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	js, err := l.structured(ctx, withSystemPrompt(outputSystemPrompt, systemPrompt), answerPrompt(query, sources), "answer", schema)
	if err != nil {
		l.log.Warn("answer LLM failed on outputSchema", "model", l.opts.Model, "error", err)
		return nil, status.Error(codes.Unavailable, fmt.Sprintf("outputSchema: %s", l.describeLLMError(err)))
	}
	return &exaAnswerResponse{RequestID: resp.GetRequestId(), Answer: js, Citations: cites, AnswerType: answerLLM, Model: l.opts.Model}, nil
}
