package mcp

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/protobuf/encoding/protojson"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// defaultCrawlPages is maxPages when a call gives none: few enough that
// the call ends within an agent's patience (an MCP client waits about a
// minute by default), and a crawl continues where it stopped when called
// again with the same seeds.
const defaultCrawlPages = 100

// CrawlInput is the crawl tool's arguments, IndexService.Crawl's request.
type CrawlInput struct {
	Seeds              []string `json:"seeds" jsonschema:"absolute http or https URLs to start from, 1 to 1000"`
	MaxPages           int      `json:"maxPages,omitempty" jsonschema:"pages to fetch before stopping; default 100; up to the server's maximum"`
	MaxDepth           *int     `json:"maxDepth,omitempty" jsonschema:"link hops from a seed to follow: 0 fetches only the seeds; default 3"`
	AllowedDomains     []string `json:"allowedDomains,omitempty" jsonschema:"host names the crawl may fetch from, each with its subdomains; default: the seeds' own domains"`
	IncludeURLPatterns []string `json:"includeUrlPatterns,omitempty" jsonschema:"RE2 regular expressions: a linked URL is fetched only if it matches one"`
	ExcludeURLPatterns []string `json:"excludeUrlPatterns,omitempty" jsonschema:"RE2 regular expressions: a linked URL that matches one is skipped"`
	AllowPrivate       bool     `json:"allowPrivate,omitempty" jsonschema:"also fetch loopback and private addresses (an intranet); refused unless the server allows it (cari serve --crawl-allow-private)"`
	UserAgentContact   string   `json:"userAgentContact,omitempty" jsonschema:"URL or email address for site operators, put in the crawler's User-Agent; default: the server's"`
	Collection         string   `json:"collection,omitempty" jsonschema:"the collection (or alias) to index the pages into; default: default"`
}

// CrawlResult is the structured output of crawl: the crawl's last
// progress report.
type CrawlResult struct {
	CrawlID string `json:"crawlId"`
	Fetched int64  `json:"fetched"`
	Indexed int64  `json:"indexed"`
	// Skipped and Errors count URLs by reason ("robots", "private_address",
	// "http_404", ...).
	Skipped map[string]int64 `json:"skipped,omitempty"`
	Errors  map[string]int64 `json:"errors,omitempty"`
	// Queued URLs were found but not fetched: a crawl stopped by maxPages
	// continues with them when called again with the same seeds.
	Queued int64 `json:"queued"`
	// StopReason is "frontier_empty" (nothing left in scope) or
	// "max_pages".
	StopReason string `json:"stopReason"`
	Elapsed    string `json:"elapsed"`
}

const crawlDescription = "Crawl web pages from seed URLs into this Cari server's index (admin API key required), so that search can find them. " +
	"Fetches at most maxPages pages (default 100), following links up to maxDepth hops within the seeds' domains, politely (robots.txt, " +
	"a delay per host), and returns when the crawl ends, with counts of pages fetched and indexed. Use it only when the user asks to add " +
	"a site or pages to the index; search first to see whether they are there. Calling it again with the same seeds continues a crawl " +
	"that stopped at maxPages."

// crawlAnnotations: a crawl writes to the index and fetches from the web,
// so clients ask the user before running it.
var crawlAnnotations = &sdk.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: new(bool), OpenWorldHint: new(true)}

// crawl runs IndexService.Crawl through /v1/crawl, where the server
// checks the key's scope (admin) and collection, applies its crawl limits
// and runs the crawler as every other crawl request does.
func (s *Server) crawl(ctx context.Context, req *sdk.CallToolRequest, in CrawlInput) (*sdk.CallToolResult, CrawlResult, error) {
	if len(in.Seeds) == 0 {
		return nil, CrawlResult{}, errors.New("seeds: give at least one absolute http or https URL to start from")
	}
	if in.MaxPages == 0 {
		in.MaxPages = defaultCrawlPages
	}
	creq := &cariv1.CrawlRequest{
		Seeds: in.Seeds, MaxPages: int32(min(max(in.MaxPages, -1), 1<<30)), AllowedDomains: in.AllowedDomains,
		IncludeUrlPatterns: in.IncludeURLPatterns, ExcludeUrlPatterns: in.ExcludeURLPatterns,
		AllowPrivate: in.AllowPrivate, UserAgentContact: in.UserAgentContact, Collection: in.Collection,
	}
	if in.MaxDepth != nil {
		d := int32(min(max(*in.MaxDepth, -1), 1<<30))
		creq.MaxDepth = &d
	}
	body, err := protojson.Marshal(creq)
	if err != nil {
		return nil, CrawlResult{}, err
	}
	data, err := s.exa.do(ctx, extraOf(req), http.MethodPost, "/v1/crawl", body)
	if err != nil {
		return nil, CrawlResult{}, fmt.Errorf("crawl: %w", err)
	}
	p, err := lastProgress(data)
	if err != nil {
		return nil, CrawlResult{}, fmt.Errorf("crawl: %w", err)
	}
	out := CrawlResult{
		CrawlID: p.GetCrawlId(), Fetched: p.GetFetched(), Indexed: p.GetIndexed(), Skipped: p.GetSkipped(), Errors: p.GetErrors(),
		Queued: p.GetQueued(), Elapsed: p.GetElapsed().AsDuration().Round(1e6).String(),
		StopReason: strings.ToLower(strings.TrimPrefix(p.GetSummary().GetStopReason().String(), "CRAWL_STOP_REASON_")),
	}
	text := fmt.Sprintf("Crawl %s into collection %s: fetched %d pages, indexed %d, skipped %d%s, errors %d%s, in %s; stopped: %s.",
		out.CrawlID, cmp.Or(in.Collection, "default"), out.Fetched, out.Indexed, total(out.Skipped), reasons(out.Skipped),
		total(out.Errors), reasons(out.Errors), out.Elapsed, out.StopReason)
	if out.StopReason == "max_pages" && out.Queued > 0 {
		text += fmt.Sprintf(" %d URLs are left in scope: call crawl again with the same seeds to continue.", out.Queued)
	}
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: text}}}, out, nil
}

// lastProgress reads the gateway's stream, one {"result": CrawlProgress}
// or {"error": Status} object a line, and returns the last progress, or
// the error that ended the stream.
func lastProgress(data []byte) (*cariv1.CrawlProgress, error) {
	var last *cariv1.CrawlProgress
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var msg struct {
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(line, &msg); err != nil {
			return nil, fmt.Errorf("decode progress: %w", err)
		}
		if msg.Error != nil {
			return nil, errors.New(msg.Error.Message)
		}
		p := &cariv1.CrawlProgress{}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(msg.Result, p); err != nil {
			return nil, fmt.Errorf("decode progress: %w", err)
		}
		last = p
	}
	if last == nil || !last.GetDone() {
		return nil, errors.New("the crawl's stream ended before its last report")
	}
	return last, nil
}

// reasons lists counts by reason, " (robots: 2, http_404: 1)", most first.
func reasons(byReason map[string]int64) string {
	if len(byReason) == 0 {
		return ""
	}
	keys := slices.Collect(maps.Keys(byReason))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(byReason[b], byReason[a]), cmp.Compare(a, b)) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, byReason[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// total sums counts by reason.
func total(byReason map[string]int64) int64 {
	var n int64
	for _, c := range byReason {
		n += c
	}
	return n
}
