package exa

import (
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// searchHandler answers POST /search.
func (a *exaAPI) searchHandler(c *exaCall, body []byte) (any, error) {
	var req exaSearchRequest
	if err := decodeExa(body, &req); err != nil {
		return nil, err
	}
	if req.Stream {
		return nil, status.Error(codes.Unimplemented, "stream: streamed search synthesizes output with an LLM, which this server does not have; search without stream, or use /answer")
	}
	typ, ok := exaTypes[req.Type]
	if !ok {
		return nil, badRequest("type: must be auto, neural, keyword, hybrid, fast, instant, deep-lite, deep or deep-reasoning, got %q", req.Type)
	}
	plan, err := a.planSearch(&req.exaFilters)
	if err != nil {
		return nil, err
	}
	deep, deepWarnings, err := a.planDeep(&req)
	if err != nil {
		return nil, err
	}
	query, autoWarnings, err := a.autoprompt(c.r.Context(), &req)
	if err != nil {
		return nil, err
	}
	sreq := &cariv1.SearchRequest{
		Query:      query,
		Type:       typ,
		NumResults: plan.numResults,
		Filters:    plan.filters,
		Contents:   deep.contents(plan.contents),
		Debug:      req.Debug,
	}
	resp, runWarnings, err := a.runSearch(c, deep, sreq)
	if err != nil {
		return nil, err
	}
	entries, more, err := a.refreshSearch(c, resp, plan, req.Query)
	if err != nil {
		return nil, err
	}
	out := exaSearchResponseOf(resp, req.Type, plan.want, slices.Concat(autoWarnings, deepWarnings, runWarnings, more)).attach(entries)
	if req.UseAutoprompt {
		out.AutopromptString = query
	}
	a.finishSearch(c, req.Query, plan.derived, deep, resp, plan.want, out)
	return out, nil
}

// findSimilarHandler answers POST /findSimilar.
func (a *exaAPI) findSimilarHandler(c *exaCall, body []byte) (any, error) {
	var req exaFindSimilarRequest
	if err := decodeExa(body, &req); err != nil {
		return nil, err
	}
	if req.UseAutoprompt {
		return nil, badRequest("useAutoprompt: /findSimilar has no query to rewrite; leave it out or send false")
	}
	if req.URL == "" {
		return nil, badRequest("url: required: the URL of an indexed page to find pages like")
	}
	plan, err := a.planSearch(&req.exaFilters)
	if err != nil {
		return nil, err
	}
	in := &cariv1.FindSimilarRequest{
		Source:              &cariv1.FindSimilarRequest_Url{Url: req.URL},
		NumResults:          plan.numResults,
		Filters:             plan.filters,
		Contents:            plan.contents,
		ExcludeSourceDomain: req.ExcludeSourceDomain,
		Debug:               req.Debug,
	}
	id, built := a.urls.id(req.URL)
	if built {
		in.Source = &cariv1.FindSimilarRequest_Id{Id: id}
	}
	resp, err := a.search.FindSimilar(c.ctx, in, c.opts()...)
	if built && status.Code(err) == codes.NotFound && !strings.HasPrefix(req.URL, DefaultURIPrefix) {
		// A page's own URL that happens to fit the template.
		in.Source = &cariv1.FindSimilarRequest_Url{Url: req.URL}
		resp, err = a.search.FindSimilar(c.ctx, in, c.opts()...)
	}
	if err != nil {
		return nil, err
	}
	a.present(resp)
	entries, more, err := a.refreshSearch(c, resp, plan, "")
	if err != nil {
		return nil, err
	}
	out := exaSearchResponseOf(resp, "", plan.want, more).attach(entries)
	a.finishSearch(c, "", plan.derived, nil, resp, plan.want, out)
	return out, nil
}

// exaContentsResponse is the answer of /contents: the documents found, and
// a status for each one asked for.
type exaContentsResponse struct {
	RequestID   string      `json:"requestId"`
	Results     []exaResult `json:"results"`
	Statuses    []exaStatus `json:"statuses"`
	Context     string      `json:"context,omitempty"`
	CostDollars exaCost     `json:"costDollars"`
	Warnings    []string    `json:"warnings,omitempty"`
}

// exaStatus says whether one requested URL or ID was found.
type exaStatus struct {
	ID     string          `json:"id"`
	Status string          `json:"status"`
	Source string          `json:"source,omitempty"`
	Error  *exaStatusError `json:"error,omitempty"`
}

type exaStatusError struct {
	Tag            string `json:"tag"`
	HTTPStatusCode int    `json:"httpStatusCode"`
}

// contentsHandler answers POST /contents.
func (a *exaAPI) contentsHandler(c *exaCall, body []byte) (any, error) {
	var req exaContentsRequest
	if err := decodeExa(body, &req); err != nil {
		return nil, err
	}
	if len(req.URLs) == 0 && len(req.IDs) == 0 {
		return nil, badRequest("urls: give at least one URL (or ids)")
	}
	live, liveWarn, err := a.livePolicyOf(&req.exaContents, liveFallback)
	if err != nil {
		return nil, err
	}
	warnings := liveWarn
	contents, want := req.exaContents.proto()
	if req.Text == nil && (req.Highlights == nil || !req.Highlights.On) && (req.Summary == nil || !req.Summary.On) {
		// Exa returns the text when no contents option is given.
		contents, want.text = &cariv1.ContentsOptions{Text: &cariv1.TextOptions{}}, true
	}
	want.filterEmpty = req.FilterEmptyResults // /contents always returns some contents
	derived, contents, err := a.planDerived(&req.exaContents, nil, contents, &want)
	if err != nil {
		return nil, err
	}
	items, requestID, err := a.lookUp(c, req.IDs, req.URLs, contents)
	if err != nil {
		return nil, err
	}
	entries := a.contentsEntries(items, live)
	if err := a.crawlEntries(c, live, entries, contents); err != nil {
		return nil, err
	}
	if err := a.addLinks(c, req.exaLinkOptions, live, entries, contents, want); err != nil {
		return nil, err
	}
	warnings = append(warnings, applyTextView(entries, live.view, live.maxChars)...)
	out := &exaContentsResponse{RequestID: requestID, Results: []exaResult{}, Statuses: []exaStatus{}, Warnings: append(warnings, liveWarnings(entries)...)}
	var found []*cariv1.Result
	for _, e := range entries {
		if e.doc == nil {
			if e.err == nil {
				e.err = &exaStatusError{Tag: "CRAWL_NOT_FOUND", HTTPStatusCode: 404}
			}
			out.Statuses = append(out.Statuses, exaStatus{ID: e.asked, Status: "error", Error: e.err})
			continue
		}
		out.Statuses = append(out.Statuses, exaStatus{ID: e.asked, Status: "success", Source: e.source()})
		out.Results = append(out.Results, e.attach(exaResultOf(e.doc, want, false)))
		found = append(found, e.doc)
	}
	var more []string
	out.Context, more = derived.apply(c.r.Context(), a, "", found, out.Results, want)
	out.Warnings = append(out.Warnings, more...)
	out.Results = dropEmpty(out.Results, want)
	return out, nil
}

// lookedUp is the outcome for one ID or URL that /contents asked for.
type lookedUp struct {
	asked  string // as the request gave it
	status cariv1.ContentsStatus
	doc    *cariv1.Result
}

// lookUp fetches the documents of /contents, in request order (the ids,
// then the urls). A URL that Cari built for a document without one
// (cari:doc/, or the URL template) is looked up by its ID; one that only
// fits the template and names no ID is then looked up as a page's URL.
func (a *exaAPI) lookUp(c *exaCall, ids, urls []string, contents *cariv1.ContentsOptions) ([]lookedUp, string, error) {
	asked := append(slices.Clip(ids), urls...)
	var byID, byURL []string
	byIDAt, byURLAt := []int{}, []int{} // positions in asked
	for i, s := range asked {
		id, built := s, i < len(ids)
		if !built {
			id, built = a.urls.id(s)
		}
		if built {
			byID, byIDAt = append(byID, id), append(byIDAt, i)
		} else {
			byURL, byURLAt = append(byURL, s), append(byURLAt, i)
		}
	}
	resp, err := a.search.GetContents(c.ctx, &cariv1.GetContentsRequest{Ids: byID, Urls: byURL, Contents: contents}, c.opts()...)
	if err != nil {
		return nil, "", err
	}
	out := make([]lookedUp, len(asked))
	positions := append(slices.Clip(byIDAt), byURLAt...)
	var retry []int // templated URLs whose ID is unknown
	for k, it := range resp.GetItems() {
		at := positions[k]
		out[at] = lookedUp{asked: asked[at], status: it.GetStatus(), doc: it.GetDocument()}
		if k < len(byID) && at >= len(ids) && it.GetStatus() == cariv1.ContentsStatus_CONTENTS_STATUS_NOT_FOUND && !strings.HasPrefix(asked[at], DefaultURIPrefix) {
			retry = append(retry, at)
		}
	}
	if len(retry) > 0 {
		again := make([]string, len(retry))
		for i, at := range retry {
			again[i] = asked[at]
		}
		resp2, err := a.search.GetContents(c.ctx, &cariv1.GetContentsRequest{Urls: again, Contents: contents}, c.opts()...)
		if err != nil {
			return nil, "", err
		}
		for i, it := range resp2.GetItems() {
			out[retry[i]].status, out[retry[i]].doc = it.GetStatus(), it.GetDocument()
		}
	}
	var docs []*cariv1.Result
	for _, it := range out {
		if it.doc != nil {
			docs = append(docs, it.doc)
		}
	}
	a.urls.fill(docs)
	return out, resp.GetRequestId(), nil
}
