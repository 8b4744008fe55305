package exa

// Deep search (type deep-lite, deep, deep-reasoning): the query and its
// variations (the caller's additionalQueries, or written by the chat model
// server) each run as a search, and their rankings are fused by reciprocal
// rank. With outputSchema (on any type), the chat model also synthesizes
// an output from the top results: text citing them, or a JSON object valid
// against the schema, with per-field grounding.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// deepVariations is how many query variations each deep type asks the
// model for: more for the slower, more thorough types.
var deepVariations = map[string]int{"deep-lite": 2, "deep": 3, "deep-reasoning": 5}

const (
	// maxAdditionalQueries is exa-js's documented bound.
	maxAdditionalQueries = 5
	// deepRRFK is reciprocal rank fusion's k (Cormack, Clarke and
	// Büttcher 2009): a document's fused score is the sum over rankings
	// of 1/(k + rank).
	deepRRFK = 60
	// deepResults is how many fused results a request without numResults
	// gets, Exa's default.
	deepResults = 10
	// Exa's bounds on an object outputSchema.
	maxOutputProperties = 10
	maxOutputDepth      = 2
)

// variationsSystemPrompt asks the model for query variations.
const variationsSystemPrompt = `You write web search queries. Given a user's search query, write up to %d other search queries that find pages meeting the same need: reworded, with synonyms, more specific or more general.
Each is a short search query, not a question to a person. Do not repeat the user's query.`

// deepPlan is a search request's deep search and output, checked.
type deepPlan struct {
	deep         bool     // a deep type: run variations and fuse
	variations   int      // variations to ask the model for (none when given)
	queries      []string // the caller's additionalQueries
	output       *outputSpec
	systemPrompt string
}

// outputSpec is a checked outputSchema: text (with a description), or an
// object valid against schema.
type outputSpec struct {
	description string
	schema      *outputSchema // nil: text
}

// deepOutput is the response's output, as exa-js reads it.
type deepOutput struct {
	// Content is a string, or the JSON object (json.RawMessage).
	Content   any             `json:"content"`
	Grounding []deepGrounding `json:"grounding"`
}

// deepGrounding says which results support one field of the output.
type deepGrounding struct {
	Field     string         `json:"field"`
	Citations []deepCitation `json:"citations"`
	// Confidence is "high" (two or more results support the field),
	// "medium" (one) or "low" (none).
	Confidence string `json:"confidence"`
}

type deepCitation struct {
	URL   string `json:"url"`
	Title string `json:"title"`
}

// planDeep checks req's deep search and output options. What needs the
// chat model server, when there is none, is a 501 naming the setting.
// It returns nil when the request is a plain search.
func (a *exaAPI) planDeep(req *exaSearchRequest) (*deepPlan, []string, error) {
	n, deep := deepVariations[req.Type]
	p := &deepPlan{deep: deep, systemPrompt: strings.TrimSpace(req.SystemPrompt)}
	if len(req.AdditionalQueries) > 0 && !deep {
		return nil, nil, badRequest("additionalQueries: only works with type deep, deep-lite or deep-reasoning, got type %q", req.Type)
	}
	if len(req.AdditionalQueries) > maxAdditionalQueries {
		return nil, nil, badRequest("additionalQueries: at most %d queries, got %d", maxAdditionalQueries, len(req.AdditionalQueries))
	}
	for i, q := range req.AdditionalQueries {
		if strings.TrimSpace(q) == "" {
			return nil, nil, badRequest("additionalQueries[%d]: must not be empty", i)
		}
		p.queries = append(p.queries, strings.TrimSpace(q))
	}
	var err error
	if p.output, err = parseOutputSchema(req.OutputSchema); err != nil {
		return nil, nil, err
	}
	if deep && len(p.queries) == 0 {
		p.variations = n
	}
	if a.llm == nil {
		switch {
		case p.output != nil:
			return nil, nil, needsLLM("outputSchema", "synthesized output")
		case p.variations > 0:
			return nil, nil, needsLLM("type", fmt.Sprintf("%s search without additionalQueries (the query variations to search for)", req.Type))
		}
	}
	var warnings []string
	if p.systemPrompt != "" && p.output == nil && p.variations == 0 && !req.UseAutoprompt {
		warnings = append(warnings, "systemPrompt: guides query variations, useAutoprompt's rewrite and outputSchema's output, none of which this request asks the chat model for; ignored")
	}
	if !deep && p.output == nil {
		return nil, warnings, nil
	}
	return p, warnings, nil
}

// parseOutputSchema reads /search's outputSchema: {"type": "text",
// "description"} or {"type": "object", "properties", "required"}, an
// object at most two levels deep with at most ten properties, as Exa
// allows.
func parseOutputSchema(raw json.RawMessage) (*outputSpec, error) {
	if s := strings.TrimSpace(string(raw)); s == "" || s == "null" {
		return nil, nil
	}
	var head struct {
		Type        string `json:"type"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, badRequest("outputSchema: must be {\"type\": \"text\"} or a JSON Schema of type object: %v", err)
	}
	switch head.Type {
	case "text":
		return &outputSpec{description: head.Description}, nil
	case "object":
		var tree any
		_ = json.Unmarshal(raw, &tree)
		props, depth := schemaSize(tree, 0)
		if depth > maxOutputDepth || props > maxOutputProperties {
			return nil, badRequest("outputSchema: an object may be at most %d levels deep with at most %d properties in all, got %d levels and %d properties", maxOutputDepth, maxOutputProperties, depth, props)
		}
		s, err := compileSchema("outputSchema", raw)
		if err != nil {
			return nil, err
		}
		return &outputSpec{description: head.Description, schema: s}, nil
	}
	return nil, badRequest("outputSchema.type: must be \"text\" or \"object\", got %q", head.Type)
}

// schemaSize counts the properties of a JSON Schema object, at every
// level, and how deep they nest (top-level properties are depth 1).
func schemaSize(node any, depth int) (props, maxDepth int) {
	obj, ok := node.(map[string]any)
	if !ok {
		return 0, depth
	}
	maxDepth = depth
	if items, ok := obj["items"]; ok {
		p, d := schemaSize(items, depth)
		props, maxDepth = props+p, max(maxDepth, d)
	}
	properties, _ := obj["properties"].(map[string]any)
	for _, child := range properties {
		p, d := schemaSize(child, depth+1)
		props, maxDepth = props+1+p, max(maxDepth, d)
	}
	return props, maxDepth
}

// runDeep runs the query and its variations as searches and fuses their
// rankings; the response is the main query's, with the fused results.
func (a *exaAPI) runDeep(c *exaCall, p *deepPlan, sreq *cariv1.SearchRequest) (*cariv1.SearchResponse, []string, error) {
	queries, warnings := a.deepQueries(c.r.Context(), p, sreq.GetQuery())
	resps := make([]*cariv1.SearchResponse, len(queries))
	// Each search gets its own response headers: the calls run at once and
	// c.opts() would have them all write c.header.
	headers := make([]metadata.MD, len(queries))
	defer func() {
		for _, h := range headers {
			c.header = metadata.Join(c.header, h)
		}
	}()
	g, ctx := errgroup.WithContext(c.ctx)
	for i, q := range queries {
		r := proto.Clone(sreq).(*cariv1.SearchRequest)
		// The variations are deep search's thoroughness; each runs as auto,
		// hybrid wherever the server has an embedding model, so that deep
		// search works on a keyword-only index too.
		r.Query, r.Type = q, cariv1.SearchType_SEARCH_TYPE_AUTO
		if h := r.GetContents().GetHighlights(); h != nil && h.GetQuery() == "" {
			h.Query = sreq.GetQuery() // highlights answer the caller's query, not a variation
		}
		g.Go(func() error {
			var err error
			if resps[i], err = a.search.Search(ctx, r, grpc.Header(&headers[i])); err == nil {
				a.present(resps[i]) // the urls; fusion replaces the scores
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	lists := make([][]*cariv1.Result, len(resps))
	for i, r := range resps {
		lists[i] = r.GetResults()
	}
	out := proto.Clone(resps[0]).(*cariv1.SearchResponse)
	out.Results = fuseRankings(lists, int(cmp.Or(sreq.GetNumResults(), deepResults)))
	return out, warnings, nil
}

// deepQueries is the query and its variations: the caller's, or the
// model's. When the model fails, the search runs the query alone and a
// warning says why.
func (a *exaAPI) deepQueries(ctx context.Context, p *deepPlan, query string) ([]string, []string) {
	queries := append([]string{query}, p.queries...)
	if p.variations == 0 {
		return queries, nil
	}
	vs, err := a.llm.variations(ctx, query, p.variations, p.systemPrompt)
	if err != nil {
		a.llm.log.Warn("deep search: query variations failed", "model", a.llm.opts.Model, "error", err)
		return queries, []string{"type: " + a.llm.describeLLMError(err) + " writing query variations; searched for the query alone"}
	}
	return append(queries, vs...), nil
}

// variations asks the model for up to n variations of query, distinct
// from it and from each other.
func (l *llmAnswerer) variations(ctx context.Context, query string, n int, systemPrompt string) ([]string, error) {
	schema, err := compileSchema("type", json.RawMessage(fmt.Sprintf(
		`{"type":"object","properties":{"queries":{"type":"array","items":{"type":"string","minLength":1},"minItems":1,"maxItems":%d}},"required":["queries"],"additionalProperties":false}`, n)))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	js, err := l.structured(ctx, withSystemPrompt(fmt.Sprintf(variationsSystemPrompt, n), systemPrompt), query, "query_variations", schema)
	if err != nil {
		return nil, err
	}
	var v struct{ Queries []string }
	if err := json.Unmarshal(js, &v); err != nil {
		return nil, err
	}
	seen := map[string]bool{strings.ToLower(strings.TrimSpace(query)): true}
	var out []string
	for _, q := range v.Queries {
		q = strings.TrimSpace(q)
		if k := strings.ToLower(q); q != "" && !seen[k] && len(out) < n {
			seen[k] = true
			out = append(out, q)
		}
	}
	return out, nil
}

// withSystemPrompt adds the caller's systemPrompt to Cari's own.
func withSystemPrompt(own, caller string) string {
	if caller == "" {
		return own
	}
	return own + "\n\nThe user's instructions:\n" + caller
}

// fuseRankings fuses ranked result lists by reciprocal rank, best first,
// and keeps the first n. A document's score becomes its fused score
// divided by the most it could have (first in every list), in [0, 1]; its
// contents are those of the list that ranked it best.
func fuseRankings(lists [][]*cariv1.Result, n int) []*cariv1.Result {
	type fused struct {
		r         *cariv1.Result
		score     float64
		bestRank  int
		firstSeen int
	}
	byID := map[string]*fused{}
	var all []*fused
	for _, list := range lists {
		for rank, r := range list {
			f := byID[r.GetId()]
			if f == nil {
				f = &fused{r: r, bestRank: rank, firstSeen: len(all)}
				byID[r.GetId()] = f
				all = append(all, f)
			} else if rank < f.bestRank {
				f.r, f.bestRank = r, rank
			}
			f.score += 1 / float64(deepRRFK+rank+1)
		}
	}
	slices.SortFunc(all, func(x, y *fused) int {
		return cmp.Or(cmp.Compare(y.score, x.score), cmp.Compare(x.firstSeen, y.firstSeen))
	})
	best := float64(len(lists)) / float64(deepRRFK+1)
	out := make([]*cariv1.Result, 0, min(n, len(all)))
	for _, f := range all[:min(n, len(all))] {
		r := proto.Clone(f.r).(*cariv1.Result)
		r.Score = float32(f.score / best)
		out = append(out, r)
	}
	return out
}

// contents makes sure that the search fetches what the output is written
// from: highlights, when the caller asked for neither text nor highlights
// (the response still shows only what the caller asked for).
func (p *deepPlan) contents(c *cariv1.ContentsOptions) *cariv1.ContentsOptions {
	if p == nil || p.output == nil || c.GetText() != nil || c.GetHighlights() != nil {
		return c
	}
	if c == nil {
		c = &cariv1.ContentsOptions{}
	}
	c.Highlights = &cariv1.HighlightsOptions{NumSentences: answerSentences, PerUrl: answerHighlights}
	return c
}

// runSearch runs sreq: as a deep search when p asks for one.
func (a *exaAPI) runSearch(c *exaCall, p *deepPlan, sreq *cariv1.SearchRequest) (*cariv1.SearchResponse, []string, error) {
	if p == nil || !p.deep {
		resp, err := a.search.Search(c.ctx, sreq, c.opts()...)
		if err == nil {
			a.present(resp)
		}
		return resp, nil, err
	}
	return a.runDeep(c, p, sreq)
}

// finishSearch adds to out what is made from the results after the
// search: summaries, the context string, and deep search's output.
func (a *exaAPI) finishSearch(c *exaCall, query string, d *derivedContents, p *deepPlan, resp *cariv1.SearchResponse, want exaWant, out *exaSearchResponse) {
	var warnings []string
	out.Context, warnings = d.apply(c.r.Context(), a, query, resp.GetResults(), out.Results, want)
	out.Warnings = append(out.Warnings, warnings...)
	out.Results = dropEmpty(out.Results, want)
	if p == nil {
		return
	}
	if p.deep {
		out.ResolvedSearchType = "deep"
	}
	if p.output != nil {
		var warning string
		if out.Output, warning = a.synthesize(c.r.Context(), p, query, resp); warning != "" {
			out.Warnings = append(out.Warnings, warning)
		}
	}
}
