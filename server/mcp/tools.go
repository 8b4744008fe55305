package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// SearchInput is the search tool's arguments; the jsonschema tags are the
// descriptions a model reads to fill them in.
type SearchInput struct {
	Query              string   `json:"query" jsonschema:"what to look for, as a natural-language question or description of the wanted page, or keywords"`
	Type               string   `json:"type,omitempty" jsonschema:"auto (default: the server chooses), neural (meaning), keyword (exact words, names, codes, error messages), hybrid (both), fast, or deep (several query variations, slower)"`
	NumResults         int      `json:"numResults,omitempty" jsonschema:"how many results, 1 to 100; default 10"`
	IncludeDomains     []string `json:"includeDomains,omitempty" jsonschema:"only results from these domains, e.g. [\"go.dev\"]"`
	ExcludeDomains     []string `json:"excludeDomains,omitempty" jsonschema:"no results from these domains"`
	StartPublishedDate string   `json:"startPublishedDate,omitempty" jsonschema:"only documents published on or after this date, ISO 8601 (2024-01-31 or 2024-01-31T00:00:00Z)"`
	EndPublishedDate   string   `json:"endPublishedDate,omitempty" jsonschema:"only documents published on or before this date, ISO 8601"`
	MaxCharacters      int      `json:"maxCharacters,omitempty" jsonschema:"also return up to this many characters of each result's text; 0 (default) returns only the best passages"`
	Collection         string   `json:"collection,omitempty" jsonschema:"the collection (or alias) to search, as the collections tool lists them; default: the collection named default"`
}

// ContentsInput is the contents tool's arguments.
type ContentsInput struct {
	URLs          []string `json:"urls" jsonschema:"the url of each document to read, as search or find_similar returned it"`
	MaxCharacters int      `json:"maxCharacters,omitempty" jsonschema:"at most this many characters of each text; 0 (default) returns the whole text"`
	Collection    string   `json:"collection,omitempty" jsonschema:"the collection (or alias) the urls came from; default: the collection named default"`
}

// FindSimilarInput is the find_similar tool's arguments.
type FindSimilarInput struct {
	URL                 string   `json:"url" jsonschema:"the url of an indexed document (from search) to find documents like"`
	NumResults          int      `json:"numResults,omitempty" jsonschema:"how many results, 1 to 100; default 10"`
	IncludeDomains      []string `json:"includeDomains,omitempty" jsonschema:"only results from these domains"`
	ExcludeDomains      []string `json:"excludeDomains,omitempty" jsonschema:"no results from these domains"`
	ExcludeSourceDomain bool     `json:"excludeSourceDomain,omitempty" jsonschema:"leave out documents from the url's own domain"`
	Collection          string   `json:"collection,omitempty" jsonschema:"the collection (or alias) to search, the url's own; default: the collection named default"`
}

// AnswerInput is the answer tool's arguments.
type AnswerInput struct {
	Query      string `json:"query" jsonschema:"the question to answer from the indexed documents"`
	Collection string `json:"collection,omitempty" jsonschema:"the collection (or alias) to answer from, as the collections tool lists them; default: the collection named default"`
}

// Result is one document found or read.
type Result struct {
	ID            string   `json:"id"`
	URL           string   `json:"url"`
	Title         string   `json:"title"`
	Score         *float64 `json:"score,omitempty"`
	PublishedDate string   `json:"publishedDate,omitempty"`
	Author        string   `json:"author,omitempty"`
	Text          string   `json:"text,omitempty"`
	Highlights    []string `json:"highlights,omitempty"`
	Summary       string   `json:"summary,omitempty"`
}

// Results is the structured output of search, find_similar and contents:
// Exa's response, less its bookkeeping.
type Results struct {
	RequestID string   `json:"requestId,omitempty"`
	Results   []Result `json:"results"`
	Warnings  []string `json:"warnings,omitempty"`
}

// Answer is the structured output of answer.
type Answer struct {
	// Answer is the text, its claims numbered [1] on after Citations.
	Answer    string   `json:"answer"`
	Citations []Result `json:"citations"`
	// AnswerType is "llm" (written by the operator's chat model) or
	// "extractive" (quoted from the citations).
	AnswerType string   `json:"answerType"`
	Warnings   []string `json:"warnings,omitempty"`
}

// Tool descriptions are what a model reads to choose among them.
const (
	searchDescription = "Search the documents indexed in this Cari server (self-hosted: only what its operator crawled or indexed, not the whole web). " +
		"Returns titles, urls, dates and the best-matching passages of each result. Use it first for any question the documents may answer; " +
		"filter by domain or publication date when the user asks for a source or period. The server may hold several collections " +
		"(separate corpora: call collections to see them) and searches the one named default unless collection names another. " +
		"Follow with contents to read a result in full."
	contentsDescription = "Read the full text of documents by url, as search or find_similar returned them. " +
		"Use it when the passages search returned are not enough to answer or to quote precisely; pass the collection the search used."
	findSimilarDescription = "Find indexed documents similar in meaning to one given by url (one search or contents returned). " +
		"Use it to widen a good result into more like it, e.g. related papers or pages on the same topic; pass the collection the url came from."
	answerDescription = "Answer a question in a few sentences from the indexed documents, with numbered citations. " +
		"Written by the operator's chat model when one is configured, otherwise quoted from the best passages. " +
		"Use it for a quick factual answer; use search and contents to research in depth. Answers from one collection (default unless named)."
)

// readOnly marks every tool as reading the index only, so clients may run
// them without asking the user.
var readOnly = &sdk.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: new(bool)}

func (s *Server) addTools(srv *sdk.Server) {
	sdk.AddTool(srv, &sdk.Tool{Name: "search", Title: "Search", Description: searchDescription, Annotations: readOnly}, s.search)
	sdk.AddTool(srv, &sdk.Tool{Name: "contents", Title: "Read documents", Description: contentsDescription, Annotations: readOnly}, s.contents)
	sdk.AddTool(srv, &sdk.Tool{Name: "find_similar", Title: "Find similar documents", Description: findSimilarDescription, Annotations: readOnly}, s.findSimilar)
	sdk.AddTool(srv, &sdk.Tool{Name: "answer", Title: "Answer with citations", Description: answerDescription, Annotations: readOnly}, s.answer)
	sdk.AddTool(srv, &sdk.Tool{Name: "collections", Title: "List collections", Description: collectionsDescription, Annotations: readOnly}, s.collectionsTool)
	sdk.AddTool(srv, &sdk.Tool{Name: "crawl", Title: "Crawl web pages into the index", Description: crawlDescription, Annotations: crawlAnnotations}, s.crawl)
	s.addCollectionResources(srv)
}

// inCollection is an Exa endpoint's path for a collection: Exa's own
// paths serve default, /c/{collection}/ the others.
func inCollection(collection, path string) string {
	if collection == "" {
		return path
	}
	return "/c/" + url.PathEscape(collection) + path
}

// exaTextOption is Exa's text option: true for the whole text, or a cap.
func exaTextOption(maxChars int) any {
	if maxChars > 0 {
		return map[string]int{"maxCharacters": maxChars}
	}
	return true
}

// numResults leaves 0 out, for the server's default.
func numResults(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func (s *Server) search(ctx context.Context, req *sdk.CallToolRequest, in SearchInput) (*sdk.CallToolResult, Results, error) {
	if strings.TrimSpace(in.Query) == "" {
		return nil, Results{}, fmt.Errorf("query: required: what to search for")
	}
	body := map[string]any{
		"query": in.Query, "type": in.Type, "numResults": numResults(in.NumResults),
		"includeDomains": in.IncludeDomains, "excludeDomains": in.ExcludeDomains,
		"startPublishedDate": in.StartPublishedDate, "endPublishedDate": in.EndPublishedDate,
		"highlights": true,
	}
	if in.MaxCharacters > 0 {
		body["text"] = exaTextOption(in.MaxCharacters)
	}
	return s.results(ctx, req, inCollection(in.Collection, "/search"), body)
}

func (s *Server) findSimilar(ctx context.Context, req *sdk.CallToolRequest, in FindSimilarInput) (*sdk.CallToolResult, Results, error) {
	if strings.TrimSpace(in.URL) == "" {
		return nil, Results{}, fmt.Errorf("url: required: the url of an indexed document")
	}
	return s.results(ctx, req, inCollection(in.Collection, "/findSimilar"), map[string]any{
		"url": in.URL, "numResults": numResults(in.NumResults),
		"includeDomains": in.IncludeDomains, "excludeDomains": in.ExcludeDomains,
		"excludeSourceDomain": in.ExcludeSourceDomain, "highlights": true,
	})
}

func (s *Server) contents(ctx context.Context, req *sdk.CallToolRequest, in ContentsInput) (*sdk.CallToolResult, Results, error) {
	if len(in.URLs) == 0 {
		return nil, Results{}, fmt.Errorf("urls: give at least one url")
	}
	return s.results(ctx, req, inCollection(in.Collection, "/contents"), map[string]any{"urls": in.URLs, "text": exaTextOption(in.MaxCharacters)})
}

// results posts body to path and renders the results as text as well.
func (s *Server) results(ctx context.Context, req *sdk.CallToolRequest, path string, body any) (*sdk.CallToolResult, Results, error) {
	var out Results
	if err := s.exa.post(ctx, req, path, body, &out); err != nil {
		return nil, Results{}, err
	}
	if out.Results == nil {
		out.Results = []Result{}
	}
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: renderResults(out.Results, out.Warnings)}}}, out, nil
}

func (s *Server) answer(ctx context.Context, req *sdk.CallToolRequest, in AnswerInput) (*sdk.CallToolResult, Answer, error) {
	if strings.TrimSpace(in.Query) == "" {
		return nil, Answer{}, fmt.Errorf("query: required: the question to answer")
	}
	var raw struct {
		Answer
		Text json.RawMessage `json:"answer"`
	}
	if err := s.exa.post(ctx, req, inCollection(in.Collection, "/answer"), map[string]any{"query": in.Query}, &raw); err != nil {
		return nil, Answer{}, err
	}
	out := raw.Answer
	// Exa's answer is a string, or an object for an output schema, which
	// this tool never asks for.
	if err := json.Unmarshal(raw.Text, &out.Answer); err != nil {
		out.Answer = string(raw.Text)
	}
	if out.Citations == nil {
		out.Citations = []Result{}
	}
	text := out.Answer + "\n\nSources:\n" + renderResults(out.Citations, out.Warnings)
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: text}}}, out, nil
}

// renderResults writes results as a model reads them best: numbered, each
// with its title, url, date and passages.
func renderResults(rs []Result, warnings []string) string {
	var b strings.Builder
	if len(rs) == 0 {
		b.WriteString("No indexed document matched.\n")
	}
	for i, r := range rs {
		fmt.Fprintf(&b, "[%d] %s\n%s\n", i+1, r.Title, r.URL)
		if r.PublishedDate != "" {
			fmt.Fprintf(&b, "Published: %s\n", r.PublishedDate)
		}
		for _, h := range r.Highlights {
			fmt.Fprintf(&b, "> %s\n", strings.TrimSpace(h))
		}
		if r.Summary != "" {
			fmt.Fprintf(&b, "Summary: %s\n", r.Summary)
		}
		if r.Text != "" {
			fmt.Fprintf(&b, "%s\n", r.Text)
		}
		b.WriteString("\n")
	}
	for _, w := range warnings {
		fmt.Fprintf(&b, "Warning: %s\n", w)
	}
	return strings.TrimRight(b.String(), "\n")
}
