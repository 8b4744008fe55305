package exa

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cari-search/cari"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// exaFilters are the fields that /search and /findSimilar share.
type exaFilters struct {
	// NumResults is nil when the request leaves it out (Cari's default);
	// any value given must be in the spec's range.
	NumResults         *int32       `json:"numResults"`
	IncludeDomains     []string     `json:"includeDomains"`
	ExcludeDomains     []string     `json:"excludeDomains"`
	StartPublishedDate string       `json:"startPublishedDate"`
	EndPublishedDate   string       `json:"endPublishedDate"`
	StartCrawlDate     string       `json:"startCrawlDate"`
	EndCrawlDate       string       `json:"endCrawlDate"`
	IncludeText        []string     `json:"includeText"`
	ExcludeText        []string     `json:"excludeText"`
	Category           string       `json:"category"`
	Contents           *exaContents `json:"contents"`
	// Context is Exa's top-level context option (see derived.go).
	Context *exaContextOption `json:"context"`
	// Text and Highlights at the top level ask for contents as
	// contents.text and contents.highlights do: the spec's own curl
	// samples send {"query": ..., "text": true}.
	Text       *exaText       `json:"text"`
	Highlights *exaHighlights `json:"highlights"`
	// Debug, a Cari extension, adds each result's raw scores.
	Debug bool `json:"debug"`
}

// contents merges the top-level text and highlights into the contents
// options; what contents says wins.
func (f *exaFilters) contents() *exaContents {
	if f.Text == nil && f.Highlights == nil {
		return f.Contents
	}
	var c exaContents
	if f.Contents != nil {
		c = *f.Contents
	}
	if c.Text == nil {
		c.Text = f.Text
	}
	if c.Highlights == nil {
		c.Highlights = f.Highlights
	}
	return &c
}

// numResults checks numResults against the spec's lower bound (the upper
// bound is the server's --limit-num-results, 100 unless raised, which the
// search service enforces); 0 is Cari's default when it is left out.
func (f *exaFilters) numResults() (int32, error) {
	if f.NumResults == nil {
		return 0, nil
	}
	if n := *f.NumResults; n < 1 {
		return 0, badRequest("numResults: must be between 1 and 100, got %d", n)
	}
	return *f.NumResults, nil
}

// exaSearchRequest is the body of POST /search.
type exaSearchRequest struct {
	Query  string `json:"query"`
	Type   string `json:"type"`
	Stream bool   `json:"stream"`
	// AdditionalQueries, OutputSchema and SystemPrompt shape deep search
	// and its synthesized output (see deep.go).
	AdditionalQueries []string        `json:"additionalQueries"`
	OutputSchema      json.RawMessage `json:"outputSchema"`
	SystemPrompt      string          `json:"systemPrompt"`
	// UseAutoprompt rewrites the query through the chat model server
	// before the search (see autoprompt.go).
	UseAutoprompt bool `json:"useAutoprompt"`
	exaFilters
}

// exaFindSimilarRequest is the body of POST /findSimilar.
type exaFindSimilarRequest struct {
	URL                 string `json:"url"`
	ExcludeSourceDomain bool   `json:"excludeSourceDomain"`
	// UseAutoprompt has no query to rewrite here: true is a 400.
	UseAutoprompt bool `json:"useAutoprompt"`
	exaFilters
}

// exaContentsRequest is the body of POST /contents: the documents, and the
// contents options at the top level.
type exaContentsRequest struct {
	URLs []string `json:"urls"`
	IDs  []string `json:"ids"`
	exaContents
}

// exaContents are Exa's contents options. The fields Cari cannot act on
// are listed in exaIgnored instead.
type exaContents struct {
	Text       *exaText       `json:"text"`
	Highlights *exaHighlights `json:"highlights"`
	// Summary and Context are derived from the results' text (derived.go).
	Summary *exaSummary       `json:"summary"`
	Context *exaContextOption `json:"context"`
	// FilterEmptyResults leaves out the results that have none of the
	// contents asked for (see exaWant.filterEmpty).
	FilterEmptyResults bool `json:"filterEmptyResults"`
	exaLive
	exaLinkOptions
}

// exaText is true, false, or {"maxCharacters": N, ...}.
type exaText struct {
	On            bool
	MaxCharacters int32
	// view is the form of the text other than the main text (textview.go).
	view exaTextView
}

func (t *exaText) UnmarshalJSON(b []byte) error {
	if on, ok := jsonBool(b); ok {
		t.On = on
		return nil
	}
	var o struct {
		MaxCharacters int32 `json:"maxCharacters"`
		exaTextView
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return fieldError("contents.text", `true, false or {"maxCharacters": N}`, err)
	}
	t.On, t.MaxCharacters, t.view = true, o.MaxCharacters, o.exaTextView
	return nil
}

// exaHighlights is true, false, or {"numSentences", "highlightsPerUrl",
// "query", "maxCharacters"}.
type exaHighlights struct {
	On            bool
	NumSentences  int32  `json:"numSentences"`
	PerURL        int32  `json:"highlightsPerUrl"`
	Query         string `json:"query"`
	MaxCharacters int    `json:"maxCharacters"`
}

func (h *exaHighlights) UnmarshalJSON(b []byte) error {
	if on, ok := jsonBool(b); ok {
		*h = exaHighlights{On: on}
		return nil
	}
	type plain exaHighlights // without this method
	var o plain
	if err := json.Unmarshal(b, &o); err != nil {
		return fieldError("contents.highlights", "true, false or an object", err)
	}
	*h = exaHighlights(o)
	h.On = true
	return nil
}

// jsonBool reads a JSON true, false or null (false).
func jsonBool(b []byte) (on, ok bool) {
	switch string(bytes.TrimSpace(b)) {
	case "true":
		return true, true
	case "false", "null":
		return false, true
	}
	return false, false
}

// exaWant is what a response's results carry.
type exaWant struct {
	text, highlights bool
	// highlightChars bounds the characters of a result's highlights
	// together, as Exa's highlights.maxCharacters does: the best come
	// first, the last one that fits is cut, the rest left out. 0: no bound.
	highlightChars int
	// textChars cuts the text to at most this many characters, when more
	// was fetched for a summary than the caller asked to see; 0: as fetched.
	textChars int
	// filterEmpty is filterEmptyResults with some contents asked for: a
	// result left without text, highlights and summary is left out.
	filterEmpty bool
}

// proto converts the contents options, and says what results carry.
func (c *exaContents) proto() (*cariv1.ContentsOptions, exaWant) {
	if c == nil {
		return nil, exaWant{}
	}
	out := &cariv1.ContentsOptions{}
	var want exaWant
	if c.Text != nil && c.Text.On {
		out.Text = &cariv1.TextOptions{MaxCharacters: c.Text.MaxCharacters}
		want.text = true
	}
	if h := c.Highlights; h != nil && h.On {
		out.Highlights = &cariv1.HighlightsOptions{NumSentences: h.NumSentences, PerUrl: h.PerURL, Query: h.Query}
		want.highlights, want.highlightChars = true, h.MaxCharacters
	}
	want.filterEmpty = c.FilterEmptyResults && (want.text || want.highlights || (c.Summary != nil && c.Summary.On))
	return out, want
}

// dropEmpty leaves out the results without any contents when want asks
// for it (Exa's filterEmptyResults: "filter results with no contents"): a
// document with a title and no text, or whose text holds no highlight.
func dropEmpty(results []exaResult, want exaWant) []exaResult {
	if !want.filterEmpty {
		return results
	}
	return slices.DeleteFunc(results, func(r exaResult) bool {
		return (r.Text == nil || *r.Text == "") && (r.Highlights == nil || len(*r.Highlights) == 0) && (r.Summary == nil || *r.Summary == "")
	})
}

// exaTypes map Exa's search types onto Cari's. Exa's low-latency types run
// Cari's auto, which picks the cheapest retrieval that suits the query;
// the deep types run hybrid retrieval, the most thorough Cari has.
var exaTypes = map[string]cariv1.SearchType{
	"":               cariv1.SearchType_SEARCH_TYPE_AUTO,
	"auto":           cariv1.SearchType_SEARCH_TYPE_AUTO,
	"fast":           cariv1.SearchType_SEARCH_TYPE_AUTO,
	"instant":        cariv1.SearchType_SEARCH_TYPE_AUTO,
	"neural":         cariv1.SearchType_SEARCH_TYPE_NEURAL,
	"keyword":        cariv1.SearchType_SEARCH_TYPE_KEYWORD,
	"hybrid":         cariv1.SearchType_SEARCH_TYPE_HYBRID,
	"deep-lite":      cariv1.SearchType_SEARCH_TYPE_HYBRID,
	"deep":           cariv1.SearchType_SEARCH_TYPE_HYBRID,
	"deep-reasoning": cariv1.SearchType_SEARCH_TYPE_HYBRID,
}

// filters converts the filters to Cari's.
func (f *exaFilters) filters() (*cariv1.SearchFilters, error) {
	out := &cariv1.SearchFilters{
		IncludeDomains: f.IncludeDomains,
		ExcludeDomains: f.ExcludeDomains,
		IncludeText:    f.IncludeText,
		ExcludeText:    f.ExcludeText,
	}
	var err error
	if out.Categories, err = f.categories(); err != nil {
		return nil, err
	}
	if out.PublishedDate, err = exaRange("startPublishedDate", f.StartPublishedDate, "endPublishedDate", f.EndPublishedDate); err != nil {
		return nil, err
	}
	if out.CrawlDate, err = exaRange("startCrawlDate", f.StartCrawlDate, "endCrawlDate", f.EndCrawlDate); err != nil {
		return nil, err
	}
	return out, nil
}

func exaRange(startField, start, endField, end string) (*cariv1.TimeRange, error) {
	if start == "" && end == "" {
		return nil, nil
	}
	r := &cariv1.TimeRange{}
	for _, b := range []struct {
		field, value string
		to           **timestamppb.Timestamp
	}{{startField, start, &r.Start}, {endField, end, &r.End}} {
		if b.value == "" {
			continue
		}
		t, err := parseExaDate(b.field, b.value)
		if err != nil {
			return nil, err
		}
		*b.to = timestamppb.New(t)
	}
	return r, nil
}

// exaResult is one result as Exa writes it.
type exaResult struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Title is "" for a document without one: the spec's type is a
	// string, and strictly typed clients reject null.
	Title           string     `json:"title"`
	Score           *float64   `json:"score,omitempty"`
	PublishedDate   string     `json:"publishedDate,omitempty"`
	Author          string     `json:"author,omitempty"`
	Text            *string    `json:"text,omitempty"`
	Highlights      *[]string  `json:"highlights,omitempty"`
	HighlightScores *[]float64 `json:"highlightScores,omitempty"`
	Summary         *string    `json:"summary,omitempty"`
	// SummaryType says who wrote Summary: "llm" (the chat model server)
	// or "extractive" (sentences quoted from the page).
	SummaryType string `json:"summaryType,omitempty"`
	// Debug is a Cari extension: see exaDebug.
	Debug *exaDebug `json:"debug,omitempty"`
	// Subpages and Extras come from the page's links (links.go).
	Subpages []exaResult   `json:"subpages,omitempty"`
	Extras   *exaExtrasOut `json:"extras,omitempty"`
}

// exaResultOf converts a result; withScore is false for /contents, whose
// results are not ranked.
func exaResultOf(r *cariv1.Result, want exaWant, withScore bool) exaResult {
	out := exaResult{ID: r.GetId(), URL: r.GetUrl(), Title: r.GetTitle(), Author: r.GetAuthor(), Debug: exaDebugOf(r)}
	if withScore {
		out.Score = new(float64(r.GetScore()))
	}
	if r.GetPublishedDate() != nil {
		out.PublishedDate = exaTime(r.GetPublishedDate().AsTime())
	}
	if want.text {
		out.Text = new(cari.Truncate(r.GetText(), want.textChars, ""))
	}
	if want.highlights {
		hs, scores := make([]string, 0, len(r.GetHighlights())), make([]float64, 0, len(r.GetHighlights()))
		budget := want.highlightChars // all highlights of the result together
		for i, h := range r.GetHighlights() {
			if want.highlightChars > 0 {
				if budget <= 0 {
					break
				}
				h = cari.Truncate(h, budget, "")
				budget -= utf8.RuneCountInString(h)
			}
			hs = append(hs, h)
			if i < len(r.GetHighlightScores()) {
				scores = append(scores, float64(r.GetHighlightScores()[i]))
			}
		}
		out.Highlights, out.HighlightScores = &hs, &scores
	}
	return out
}

// exaSearchResponse is the answer of /search and /findSimilar.
type exaSearchResponse struct {
	RequestID string `json:"requestId"`
	// ResolvedSearchType is Cari's retrieval that ran: keyword, neural or
	// hybrid, all values of exa-js's search type (or deep, for deep
	// search); the SDKs type the field as a free string.
	ResolvedSearchType string `json:"resolvedSearchType"`
	// SearchType is the spec's: see specSearchType.
	SearchType string `json:"searchType,omitempty"`
	// AutopromptString is the query searched for under useAutoprompt,
	// as exa-py reads it.
	AutopromptString string      `json:"autopromptString,omitempty"`
	Results          []exaResult `json:"results"`
	SearchTime       float64     `json:"searchTime"`
	// Context is the results as one string for an LLM's prompt.
	Context string `json:"context,omitempty"`
	// Output is what the chat model synthesized for outputSchema.
	Output      *deepOutput `json:"output,omitempty"`
	CostDollars exaCost     `json:"costDollars"`
	// Warnings name the request fields that had no effect, and why.
	Warnings []string `json:"warnings,omitempty"`
}

// exaCost is Exa's cost breakdown: nothing, on a self-hosted index.
type exaCost struct {
	Total float64 `json:"total"`
}

// deepTypes are Exa's search types that the spec reports as "deep".
var deepTypes = map[string]bool{"deep-lite": true, "deep": true, "deep-reasoning": true}

// specSearchType is the response's searchType in the spec's values
// (neural, deep): "deep" when a deep type was asked for; "neural" when
// Cari's neural or hybrid retrieval ran (Exa's own auto, which mixes
// neural and keyword retrieval, reports neural); empty, and left out, when
// only keyword retrieval ran, which the spec's values cannot name.
func specSearchType(requested string, ran cariv1.SearchType) string {
	switch {
	case deepTypes[requested]:
		return "deep"
	case ran == cariv1.SearchType_SEARCH_TYPE_NEURAL || ran == cariv1.SearchType_SEARCH_TYPE_HYBRID:
		return "neural"
	}
	return ""
}

func exaSearchResponseOf(resp *cariv1.SearchResponse, requested string, want exaWant, warnings []string) *exaSearchResponse {
	out := &exaSearchResponse{
		RequestID:          resp.GetRequestId(),
		ResolvedSearchType: resp.GetResolvedSearchType().ShortName(),
		SearchType:         specSearchType(requested, resp.GetResolvedSearchType()),
		Results:            make([]exaResult, 0, len(resp.GetResults())),
		Warnings:           warnings,
	}
	if d := resp.GetTotalDuration(); d != nil {
		out.SearchTime = float64(d.AsDuration()) / float64(time.Millisecond)
	}
	for _, r := range resp.GetResults() {
		out.Results = append(out.Results, exaResultOf(r, want, true))
	}
	return out
}
