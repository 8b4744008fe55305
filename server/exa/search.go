package exa

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// searchHandler answers POST /search.
func (a *exaAPI) searchHandler(c *exaCall, body []byte) (any, error) {
	var req exaSearchRequest
	warnings, err := decodeExa(body, &req)
	if err != nil {
		return nil, err
	}
	if req.Stream {
		return nil, status.Error(codes.Unimplemented, "stream: streamed search synthesizes output with an LLM, which this server does not have; search without stream, or use /answer")
	}
	typ, ok := exaTypes[req.Type]
	if !ok {
		return nil, badRequest("type: must be auto, neural, keyword, hybrid, fast, instant, deep-lite, deep or deep-reasoning, got %q", req.Type)
	}
	filters, err := req.filters()
	if err != nil {
		return nil, err
	}
	contents, want := req.Contents.proto()
	derived, contents, err := a.planDerived(req.Contents, req.Context, contents, &want)
	if err != nil {
		return nil, err
	}
	deep, deepWarnings, err := a.planDeep(&req)
	if err != nil {
		return nil, err
	}
	sreq := &cariv1.SearchRequest{
		Query:      req.Query,
		Type:       typ,
		NumResults: req.NumResults,
		Filters:    filters,
		Contents:   deep.contents(contents),
	}
	resp, runWarnings, err := a.runSearch(c, deep, sreq)
	if err != nil {
		return nil, err
	}
	out := exaSearchResponseOf(resp, req.Type, want, append(append(warnings, deepWarnings...), runWarnings...))
	a.finishSearch(c, req.Query, derived, deep, resp, want, out)
	return out, nil
}

// findSimilarHandler answers POST /findSimilar.
func (a *exaAPI) findSimilarHandler(c *exaCall, body []byte) (any, error) {
	var req exaFindSimilarRequest
	warnings, err := decodeExa(body, &req)
	if err != nil {
		return nil, err
	}
	if req.URL == "" {
		return nil, badRequest("url: required: the URL of an indexed page to find pages like")
	}
	filters, err := req.filters()
	if err != nil {
		return nil, err
	}
	contents, want := req.Contents.proto()
	derived, contents, err := a.planDerived(req.Contents, req.Context, contents, &want)
	if err != nil {
		return nil, err
	}
	resp, err := a.search.FindSimilar(c.ctx, &cariv1.FindSimilarRequest{
		Source:              &cariv1.FindSimilarRequest_Url{Url: req.URL},
		NumResults:          req.NumResults,
		Filters:             filters,
		Contents:            contents,
		ExcludeSourceDomain: req.ExcludeSourceDomain,
	}, c.opts()...)
	if err != nil {
		return nil, err
	}
	out := exaSearchResponseOf(resp, "", want, warnings)
	a.finishSearch(c, "", derived, nil, resp, want, out)
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
	warnings, err := decodeExa(body, &req)
	if err != nil {
		return nil, err
	}
	if len(req.URLs) == 0 && len(req.IDs) == 0 {
		return nil, badRequest("urls: give at least one URL (or ids)")
	}
	contents, want := req.exaContents.proto()
	if req.Text == nil && (req.Highlights == nil || !req.Highlights.On) && (req.Summary == nil || !req.Summary.On) {
		// Exa returns the text when no contents option is given.
		contents, want.text = &cariv1.ContentsOptions{Text: &cariv1.TextOptions{}}, true
	}
	derived, contents, err := a.planDerived(&req.exaContents, nil, contents, &want)
	if err != nil {
		return nil, err
	}
	resp, err := a.search.GetContents(c.ctx, &cariv1.GetContentsRequest{Ids: req.IDs, Urls: req.URLs, Contents: contents}, c.opts()...)
	if err != nil {
		return nil, err
	}
	out := &exaContentsResponse{RequestID: resp.GetRequestId(), Results: []exaResult{}, Statuses: []exaStatus{}, Warnings: warnings}
	var found []*cariv1.Result
	for _, it := range resp.GetItems() {
		asked := it.GetUrl()
		if asked == "" {
			asked = it.GetId()
		}
		if it.GetStatus() != cariv1.ContentsStatus_CONTENTS_STATUS_FOUND {
			out.Statuses = append(out.Statuses, exaStatus{ID: asked, Status: "error", Error: &exaStatusError{Tag: "CRAWL_NOT_FOUND", HTTPStatusCode: 404}})
			continue
		}
		out.Statuses = append(out.Statuses, exaStatus{ID: asked, Status: "success", Source: "cached"})
		out.Results = append(out.Results, exaResultOf(it.GetDocument(), want, false))
		found = append(found, it.GetDocument())
	}
	var more []string
	out.Context, more = derived.apply(c.r.Context(), a, "", found, out.Results, want)
	out.Warnings = append(out.Warnings, more...)
	return out, nil
}
