package exa

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// liveEntry is one document of a response on its way through livecrawl:
// the index's copy, and what a live fetch made of it.
type liveEntry struct {
	// asked is the URL or ID as requested (/contents), or the result's URL.
	asked string
	// doc is the document to answer with: the index's copy, replaced by
	// the fresh one after a live fetch; nil when there is none.
	doc *cariv1.Result
	// fetch is the URL to fetch live; "" for none.
	fetch string
	// live is the fetched page, set when a fetch succeeded.
	live *LivePage
	// err is the fetch's error as Exa reports it, set when a fetch failed
	// and there is no copy to fall back on.
	err *exaStatusError
	// failed says why the fetch failed when the copy was kept instead.
	failed string
	// links are the extras and subpages from the page's links.
	links *resultLinks
}

// attach gives r what the entry carries besides its document.
func (e *liveEntry) attach(r exaResult) exaResult {
	if e.links != nil {
		r.Extras, r.Subpages = e.links.extras, e.links.subpages
	}
	return r
}

// source is the status source Exa reports: where the contents came from.
func (e *liveEntry) source() string {
	if e.live != nil {
		return "crawled"
	}
	return "cached"
}

// contentsEntries makes the entries of a /contents response: one per
// requested ID or URL, the index's copy when it has one, and the URL to
// fetch live when the policy wants it. URLs Cari built for documents
// without one (cari:doc/ID, the URL template) are never fetched.
func (a *exaAPI) contentsEntries(items []lookedUp, p livePolicy) []*liveEntry {
	now := time.Now()
	out := make([]*liveEntry, 0, len(items))
	for _, it := range items {
		e := &liveEntry{asked: it.asked}
		if it.status == cariv1.ContentsStatus_CONTENTS_STATUS_FOUND {
			e.doc = it.doc
			if !p.servable(it.doc.GetCrawlDate()) {
				// Crawled after snapshotAsOf: the only version Cari keeps
				// is too new, so there is none at that instant.
				e.doc = nil
			}
		}
		u := e.doc.GetUrl()
		if u == "" {
			u = it.asked // an ID not found is no URL: fetchable below finds out
		}
		if a.live != nil && a.fetchable(u) && p.wants(e.doc != nil, e.doc.GetCrawlDate().AsTime(), now) {
			e.fetch = u
		}
		out = append(out, e)
	}
	return out
}

// fetchable says whether u is a page's URL that can be fetched: http(s),
// and not one Cari built for a document without a URL.
func (a *exaAPI) fetchable(u string) bool {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return false
	}
	_, built := a.urls.id(u)
	return !built
}

// resultEntries makes the entries of a search's results, each to be
// fetched live when the policy wants it.
func (a *exaAPI) resultEntries(results []*cariv1.Result, p livePolicy) []*liveEntry {
	now := time.Now()
	out := make([]*liveEntry, len(results))
	for i, r := range results {
		out[i] = &liveEntry{asked: r.GetUrl(), doc: r}
		if a.live != nil && a.fetchable(r.GetUrl()) && p.wants(true, r.GetCrawlDate().AsTime(), now) {
			out[i].fetch = r.GetUrl()
		}
	}
	return out
}

// crawlEntries fetches the entries that want it, and replaces each one's
// copy with the fresh document the index holds after the fetch, looked up
// with contents. A failed fetch keeps the copy when the policy falls
// back and there is one, and is the entry's error otherwise.
func (a *exaAPI) crawlEntries(c *exaCall, p livePolicy, entries []*liveEntry, contents *cariv1.ContentsOptions) error {
	var urls []string
	for _, e := range entries {
		if e.fetch != "" {
			urls = append(urls, e.fetch)
		}
	}
	if len(urls) == 0 {
		return nil
	}
	fetched := a.fetchLive(c.ctx, p, urls)
	var fresh []string
	for _, r := range fetched {
		if r.err == nil {
			fresh = append(fresh, r.page.URL)
		}
	}
	docs := map[string]*cariv1.Result{}
	if len(fresh) > 0 {
		resp, err := a.search.GetContents(c.ctx, &cariv1.GetContentsRequest{Urls: fresh, Contents: contents}, c.opts()...)
		if err != nil {
			return err
		}
		for _, it := range resp.GetItems() {
			if it.GetStatus() == cariv1.ContentsStatus_CONTENTS_STATUS_FOUND {
				docs[it.GetUrl()] = it.GetDocument()
			}
		}
	}
	for _, e := range entries {
		if e.fetch == "" {
			continue
		}
		r := fetched[e.fetch]
		if r.err == nil && docs[r.page.URL] == nil {
			r = &liveResult{err: &LiveFailure{Reason: "index", Err: fmt.Errorf("%s was fetched but is not in the index", r.page.URL)}}
		}
		if r.err != nil {
			if e.doc != nil && p.fallsBack() {
				e.failed = r.err.Error()
			} else {
				e.doc, e.err = nil, exaCrawlError(r)
			}
			continue
		}
		fresh := proto.Clone(docs[r.page.URL]).(*cariv1.Result)
		if e.doc != nil {
			fresh.Score, fresh.Debug = e.doc.GetScore(), e.doc.GetDebug()
		}
		e.doc, e.live = fresh, &r.page
	}
	return nil
}

// liveWarnings name the fetches that failed where the copy was served.
func liveWarnings(entries []*liveEntry) []string {
	var out []string
	for _, e := range entries {
		if e.failed != "" {
			out = append(out, fmt.Sprintf("livecrawl: %s could not be fetched (%s); the indexed copy is served", e.asked, e.failed))
		}
	}
	return out
}

// livePolicyOf validates the livecrawl fields of contents (which may be
// nil), with def as the mode when none is given, and checks that the
// server can honour them; warnings say what it could not.
func (a *exaAPI) livePolicyOf(c *exaContents, def liveMode) (livePolicy, []string, error) {
	if c == nil {
		c = &exaContents{}
	}
	p, err := c.exaLive.policy(def)
	if err != nil {
		return p, nil, err
	}
	warnings, err := c.exaLinkOptions.check(&p, a.live != nil)
	if err != nil {
		return p, nil, err
	}
	if p.view, err = c.textView(&p, a.live != nil); err != nil {
		return p, nil, err
	}
	if c.Text != nil {
		p.maxChars = int(c.Text.MaxCharacters)
	}
	w, err := a.checkLive(p)
	if err != nil || w == "" {
		return p, warnings, err
	}
	return p, append(warnings, w), nil
}

// refreshResults fetches live the search results the policy wants fresh
// and puts the fresh documents in their places, scores kept. A search
// result has no status of its own, so a failed fetch keeps the indexed
// copy even under livecrawl "always", and a warning names it. query is
// the search's, for highlights that name none. The entries returned carry
// the results' extras and subpages, when links asks for them.
func (a *exaAPI) refreshResults(c *exaCall, resp *cariv1.SearchResponse, ec *exaContents, contents *cariv1.ContentsOptions, want exaWant, p livePolicy, query string) ([]*liveEntry, []string, error) {
	if p.mode == liveAlways {
		p.mode = livePreferred
	}
	entries := a.resultEntries(resp.GetResults(), p)
	if h := contents.GetHighlights(); h != nil && h.GetQuery() == "" && query != "" {
		contents = proto.Clone(contents).(*cariv1.ContentsOptions)
		contents.Highlights.Query = query
	}
	if err := a.crawlEntries(c, p, entries, contents); err != nil {
		return nil, nil, err
	}
	if ec != nil {
		if err := a.addLinks(c, ec.exaLinkOptions, p, entries, contents, want); err != nil {
			return nil, nil, err
		}
	}
	viewWarn := applyTextView(entries, p.view, p.maxChars)
	for i, e := range entries {
		if e.live != nil && contents.GetHighlights() != nil && contents.GetHighlights().GetQuery() == "" {
			// No query to find the fresh page's highlights with: the
			// copy's, which the search found, are kept.
			e.doc.Highlights, e.doc.HighlightScores = resp.Results[i].GetHighlights(), resp.Results[i].GetHighlightScores()
		}
		resp.Results[i] = e.doc
	}
	return entries, append(liveWarnings(entries), viewWarn...), nil
}

// attach gives each result what its entry carries besides its document
// (entries are the results', in order).
func (r *exaSearchResponse) attach(entries []*liveEntry) *exaSearchResponse {
	for i, e := range entries {
		if i < len(r.Results) {
			r.Results[i] = e.attach(r.Results[i])
		}
	}
	return r
}

// searchPlan is what /search and /findSimilar decide from their request
// before they search: filters, contents, livecrawl and derived outputs.
type searchPlan struct {
	filters *cariv1.SearchFilters
	// ec are the contents options, the top-level text and highlights
	// merged in.
	ec *exaContents
	// contents are those the search asks for: ec's, with the text that
	// summaries and the context read.
	contents *cariv1.ContentsOptions
	want     exaWant
	live     livePolicy
	derived  *derivedContents
	warnings []string
	// numResults is the number of results asked for (0: the default).
	numResults int32
}

// planSearch validates f, the part of the request /search and
// /findSimilar share: filters (the category among them), numResults,
// contents, livecrawl, summary and context.
func (a *exaAPI) planSearch(f *exaFilters) (searchPlan, error) {
	p := searchPlan{ec: f.contents()}
	var err error
	if p.filters, err = f.filters(); err != nil {
		return p, err
	}
	if p.numResults, err = f.numResults(); err != nil {
		return p, err
	}
	if p.live, p.warnings, err = a.livePolicyOf(p.ec, liveNever); err != nil {
		return p, err
	}
	if asOf := p.live.asOf; !asOf.IsZero() {
		// snapshotAsOf in a search: only the pages crawled by then have a
		// version to serve, which the crawl date filter selects inside
		// retrieval, so numResults stays whole.
		if p.filters.CrawlDate == nil {
			p.filters.CrawlDate = &cariv1.TimeRange{}
		}
		if end := p.filters.CrawlDate.End; end == nil || end.AsTime().After(asOf) {
			p.filters.CrawlDate.End = timestamppb.New(asOf)
		}
	}
	p.contents, p.want = p.ec.proto()
	p.derived, p.contents, err = a.planDerived(p.ec, f.Context, p.contents, &p.want)
	return p, err
}

// refreshSearch fetches live the results the plan's policy wants fresh;
// the entries carry their links, the warnings say what could not be done.
func (a *exaAPI) refreshSearch(c *exaCall, resp *cariv1.SearchResponse, p searchPlan, query string) ([]*liveEntry, []string, error) {
	entries, fresh, err := a.refreshResults(c, resp, p.ec, p.contents, p.want, p.live, query)
	if err != nil {
		return nil, nil, err
	}
	return entries, append(p.warnings, fresh...), nil
}
