package research

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/internal/modelhttp"
)

// Bounds of what the tools give the model, so that a conversation of a
// dozen steps fits a 32k-token context.
const (
	defaultToolResults = 5
	maxToolResults     = 10
	maxContentsURLs    = 5
	pageChars          = 6000 // of each page contents reads
	highlightSentences = 2
	highlightsPerPage  = 2
	maxExaBytes        = 32 << 20
)

// toolDefinitions are the tools the model may call, described for it to
// choose well.
var toolDefinitions = []modelhttp.Tool{
	tool("search", "Search the collection for documents about a query. Returns numbered results with title, url and highlights. Use short, specific queries; search again with other words to follow up.",
		`{"type":"object","properties":{"query":{"type":"string","description":"what to search for"},"numResults":{"type":"integer","minimum":1,"maximum":10,"description":"how many results (default 5)"}},"required":["query"]}`),
	tool("contents", "Read the text of documents, by the urls that search or find_similar returned. Read the documents you will cite.",
		`{"type":"object","properties":{"urls":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":5,"description":"urls of documents to read"}},"required":["urls"]}`),
	tool("find_similar", "Find documents similar to a document, by its url.",
		`{"type":"object","properties":{"url":{"type":"string","description":"url of a document you found"},"numResults":{"type":"integer","minimum":1,"maximum":10}},"required":["url"]}`),
}

func tool(name, description, parameters string) modelhttp.Tool {
	return modelhttp.Tool{Type: "function", Function: modelhttp.ToolFunction{Name: name, Description: description, Parameters: json.RawMessage(parameters)}}
}

// toolbox runs the model's tool calls on Exa's endpoints and numbers the
// documents they return.
type toolbox struct {
	exa     http.Handler
	prefix  string // of the collection's paths: "" or /c/{collection}
	auth    map[string]string
	sources *sources
}

func newToolbox(exa http.Handler, collection string, auth map[string]string) *toolbox {
	tb := &toolbox{exa: exa, auth: auth, sources: &sources{byURL: map[string]int{}}}
	if collection != "" {
		tb.prefix = "/c/" + url.PathEscape(collection)
	}
	return tb
}

// exaResult is the part of an Exa result the tools read.
type exaResult struct {
	ID            string   `json:"id"`
	URL           string   `json:"url"`
	Title         string   `json:"title"`
	PublishedDate string   `json:"publishedDate"`
	Text          string   `json:"text"`
	Highlights    []string `json:"highlights"`
}

type exaResults struct {
	Results  []exaResult `json:"results"`
	Statuses []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"statuses"`
}

// call runs one tool call and returns its result for the model, and the
// operations to record; a call that cannot run returns the error as its
// result.
func (tb *toolbox) call(ctx context.Context, c modelhttp.ToolCall) (string, []*Operation) {
	var args struct {
		Query      string   `json:"query"`
		URL        string   `json:"url"`
		URLs       []string `json:"urls"`
		NumResults int      `json:"numResults"`
	}
	if err := json.Unmarshal([]byte(c.Function.Arguments), &args); err != nil {
		return fmt.Sprintf("error: the arguments of %s are not a JSON object: %v", c.Function.Name, err), nil
	}
	n := args.NumResults
	if n <= 0 {
		n = defaultToolResults
	}
	n = min(n, maxToolResults)
	highlights := map[string]any{"highlights": map[string]any{"numSentences": highlightSentences, "highlightsPerUrl": highlightsPerPage}}
	switch c.Function.Name {
	case "search":
		if strings.TrimSpace(args.Query) == "" {
			return "error: search needs a query", nil
		}
		return tb.search(ctx, "/search", map[string]any{"query": args.Query, "numResults": n, "contents": highlights}, args.Query, "auto")
	case "find_similar":
		if args.URL == "" {
			return "error: find_similar needs the url of a document", nil
		}
		return tb.search(ctx, "/findSimilar", map[string]any{"url": args.URL, "numResults": n, "contents": highlights}, "similar to "+args.URL, "neural")
	case "contents":
		if len(args.URLs) == 0 {
			return "error: contents needs urls, a list of the urls of documents to read", nil
		}
		if len(args.URLs) > maxContentsURLs {
			return fmt.Sprintf("error: contents reads at most %d urls at once", maxContentsURLs), nil
		}
		return tb.contents(ctx, args.URLs)
	}
	return fmt.Sprintf("error: there is no tool %q; the tools are search, contents and find_similar", c.Function.Name), nil
}

// search runs a search or find-similar and lists its results.
func (tb *toolbox) search(ctx context.Context, path string, body map[string]any, query, searchType string) (string, []*Operation) {
	var res exaResults
	if err := tb.post(ctx, path, body, &res); err != nil {
		return "error: " + err.Error(), nil
	}
	var b strings.Builder
	op := &Operation{Type: "search", SearchType: searchType, Query: query, Results: []URLRef{}}
	if len(res.Results) == 0 {
		b.WriteString("No results.")
	}
	for _, r := range res.Results {
		n := tb.sources.add(r)
		fmt.Fprintf(&b, "[%d] %s\nURL: %s\n", n, r.Title, r.URL)
		if r.PublishedDate != "" {
			fmt.Fprintf(&b, "Published: %s\n", r.PublishedDate)
		}
		if len(r.Highlights) > 0 {
			fmt.Fprintf(&b, "Highlights: %s\n", strings.Join(r.Highlights, " … "))
		}
		b.WriteString("\n")
		op.Results = append(op.Results, URLRef{URL: r.URL})
	}
	text := strings.TrimSpace(b.String())
	tokens := len(text) / charsPerToken
	op.PageTokens = &tokens
	return text, []*Operation{op}
}

// contents reads pages and gives their text, each under its number.
func (tb *toolbox) contents(ctx context.Context, urls []string) (string, []*Operation) {
	var res exaResults
	// livecrawl never: the agent reads the collection, and a url the model
	// made up is not fetched from the web.
	body := map[string]any{"urls": urls, "text": map[string]any{"maxCharacters": pageChars}, "livecrawl": "never"}
	if err := tb.post(ctx, "/contents", body, &res); err != nil {
		return "error: " + err.Error(), nil
	}
	var b strings.Builder
	var ops []*Operation
	for _, r := range res.Results {
		n := tb.sources.add(r)
		tb.sources.markRead(n)
		text := cari.Truncate(strings.TrimSpace(r.Text), pageChars, "…")
		fmt.Fprintf(&b, "[%d] %s\nURL: %s\n%s\n\n", n, r.Title, r.URL, text)
		tokens := len(text) / charsPerToken
		ops = append(ops, &Operation{Type: "crawl", Result: &URLRef{URL: r.URL}, PageTokens: &tokens})
	}
	for _, s := range res.Statuses {
		if s.Status != "success" {
			fmt.Fprintf(&b, "%s: not found in the collection\n", s.ID)
		}
	}
	if b.Len() == 0 {
		b.WriteString("No documents found for these urls.")
	}
	return strings.TrimSpace(b.String()), ops
}

// post sends body to one of Exa's endpoints in-process, with the task's
// credentials, and decodes the answer into out; an error Exa answers is
// returned in its words, for the model to read.
func (tb *toolbox) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://in-process"+tb.prefix+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = "127.0.0.1:0"
	for k, v := range tb.auth {
		if k == RemoteAddrKey {
			r.RemoteAddr = v
			continue
		}
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	tb.exa.ServeHTTP(rec, r)
	data := rec.Body.Bytes()
	if len(data) > maxExaBytes {
		return fmt.Errorf("%s answered more than %d bytes", path, maxExaBytes)
	}
	if rec.Code != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s failed: %s", path, e.Error)
		}
		return fmt.Errorf("%s answered HTTP %d", path, rec.Code)
	}
	return json.Unmarshal(data, out)
}

// RemoteAddrKey keeps the creating client's address among a task's
// credentials, for the guard's per-address limits.
const RemoteAddrKey = "remote-addr"
