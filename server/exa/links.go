package exa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// Limits on what a request may ask of a page's links.
const (
	// maxSubpages is the most subpages returned per result; Exa says the
	// number "may be limited by system constraints", and a larger request
	// is cut to it with a warning.
	maxSubpages = 10
	// maxExtraLinks bounds extras.links and extras.imageLinks.
	maxExtraLinks = 1000
	// maxSubpageCandidates is how many of a page's same-site links are
	// looked up in the index to choose its subpages from.
	maxSubpageCandidates = 100
)

// exaLinkOptions are the contents fields answered from a page's links:
// subpages and extras. The index keeps no links, so both are read from a
// live fetch of the page.
type exaLinkOptions struct {
	Subpages      int        `json:"subpages"`
	SubpageTarget exaStrings `json:"subpageTarget"`
	Extras        *exaExtras `json:"extras"`
}

// exaExtras is extras: how many links and image links each result gets.
type exaExtras struct {
	Links      int `json:"links"`
	ImageLinks int `json:"imageLinks"`
}

// exaStrings is a string or an array of strings; a string may hold
// several, comma-separated, as Exa's subpageTarget does.
type exaStrings []string

func (s *exaStrings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = exaStrings{one}
		return nil
	}
	var many []string
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*s = nil
		return nil
	}
	if err := json.Unmarshal(b, &many); err != nil {
		return badRequest("subpageTarget: must be a string or an array of strings")
	}
	*s = many
	return nil
}

// terms are the target's words, lower-cased.
func (s exaStrings) terms() []string {
	var out []string
	for _, v := range s {
		for _, t := range strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// wantsLinks says whether results need their page's links.
func (o exaLinkOptions) wantsLinks() bool {
	return o.Subpages > 0 || (o.Extras != nil && (o.Extras.Links > 0 || o.Extras.ImageLinks > 0))
}

// check validates the options and adjusts p so that every result's page
// is fetched: its links are known only from a fetch. warnings say what
// was cut.
func (o *exaLinkOptions) check(p *livePolicy, live bool) (warnings []string, err error) {
	if o.Subpages < 0 {
		return nil, badRequest("subpages: must be 0 or more, got %d", o.Subpages)
	}
	if e := o.Extras; e != nil && (e.Links < 0 || e.ImageLinks < 0 || e.Links > maxExtraLinks || e.ImageLinks > maxExtraLinks) {
		return nil, badRequest("extras: links and imageLinks must be between 0 and %d, got %d and %d", maxExtraLinks, e.Links, e.ImageLinks)
	}
	if !o.wantsLinks() {
		return nil, nil
	}
	what := "extras"
	if o.Subpages > 0 {
		what = "subpages"
	}
	if err := needFetch(what, "keeps no links, so they come", p, live); err != nil {
		return nil, err
	}
	if o.Subpages > maxSubpages {
		warnings = append(warnings, fmt.Sprintf("subpages: at most %d per result; %d asked", maxSubpages, o.Subpages))
		o.Subpages = maxSubpages
	}
	return warnings, nil
}

// needFetch makes p fetch every page live, for what (a field) whose
// answer only a fetched page has (why says so), or refuses the request
// when the server fetches nothing live or the request forbids it.
func needFetch(what, why string, p *livePolicy, live bool) error {
	if !live {
		return status.Errorf(codes.Unimplemented, "%s: Cari's index %s from fetching each page live, which this server does not do (start it with cari serve --livecrawl)", what, why)
	}
	if p.mode == liveNever && p.asked {
		return badRequest("%s: Cari's index %s from fetching each page live, which livecrawl \"never\" (or maxAgeHours -1) forbids", what, why)
	}
	if p.mode < livePreferred {
		p.mode = livePreferred
	}
	return nil
}

// resultLinks is what a result carries from its page's links.
type resultLinks struct {
	extras   *exaExtrasOut
	subpages []exaResult
}

// exaExtrasOut is a result's extras as Exa writes them.
type exaExtrasOut struct {
	Links      []string `json:"links"`
	ImageLinks []string `json:"imageLinks"`
}

// addLinks gives every entry whose page was fetched its extras and
// subpages. Subpages are the page's same-site links that best match the
// target's terms (in its URL and, when indexed, its title), or the first
// ones when there is no target; their contents come from the index, or
// from a live fetch under p when the index lacks them. Entries whose
// fetch failed get empty extras and no subpages.
func (a *exaAPI) addLinks(c *exaCall, o exaLinkOptions, p livePolicy, entries []*liveEntry, contents *cariv1.ContentsOptions, want exaWant) error {
	if !o.wantsLinks() {
		return nil
	}
	for _, e := range entries {
		if e.doc == nil {
			continue
		}
		e.links = &resultLinks{}
		if o.Extras != nil && (o.Extras.Links > 0 || o.Extras.ImageLinks > 0) {
			e.links.extras = &exaExtrasOut{Links: []string{}, ImageLinks: []string{}}
			if e.live != nil {
				e.links.extras.Links = firstN(e.live.Links, o.Extras.Links)
				e.links.extras.ImageLinks = firstN(e.live.ImageLinks, o.Extras.ImageLinks)
			}
		}
	}
	if o.Subpages == 0 {
		return nil
	}
	// Every result's subpages at once, so that their fetches share one
	// livecrawlTimeout span rather than taking one each in turn.
	errs := make([]error, len(entries))
	var wg sync.WaitGroup
	for i, e := range entries {
		if e.links == nil || e.live == nil {
			continue
		}
		wg.Go(func() { e.links.subpages, errs[i] = a.subpages(c, o, p, e.live, contents, want) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		s = s[:n]
	}
	return append([]string{}, s...)
}

// subpages chooses and looks up the subpages of one fetched page.
func (a *exaAPI) subpages(c *exaCall, o exaLinkOptions, p livePolicy, page *LivePage, contents *cariv1.ContentsOptions, want exaWant) ([]exaResult, error) {
	cands := sameSite(page.URL, page.Links, maxSubpageCandidates)
	if len(cands) == 0 {
		return []exaResult{}, nil
	}
	resp, err := a.search.GetContents(c.ctx, &cariv1.GetContentsRequest{Urls: cands, Contents: contents}, c.opts()...)
	if err != nil {
		return nil, err
	}
	indexed := map[string]*cariv1.Result{}
	for _, it := range resp.GetItems() {
		if it.GetStatus() == cariv1.ContentsStatus_CONTENTS_STATUS_FOUND {
			indexed[it.GetUrl()] = it.GetDocument()
		}
	}
	chosen := rankSubpages(cands, indexed, o.SubpageTarget.terms(), o.Subpages)
	entries := make([]*liveEntry, len(chosen))
	for i, u := range chosen {
		entries[i] = &liveEntry{asked: u, doc: indexed[u]}
		if entries[i].doc == nil {
			entries[i].fetch = u
		}
	}
	// A subpage the index lacks is fetched; one it has is served as is.
	sp := p
	sp.mode = liveFallback
	if err := a.crawlEntries(c, sp, entries, contents); err != nil {
		return nil, err
	}
	out := []exaResult{}
	for _, e := range entries {
		if e.doc != nil {
			out = append(out, exaResultOf(e.doc, want, false))
		}
	}
	return out, nil
}

// sameSite returns the links on page's host other than page itself, at
// most n, in document order.
func sameSite(page string, links []string, n int) []string {
	pu, err := url.Parse(page)
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range links {
		lu, err := url.Parse(l)
		if err != nil || !strings.EqualFold(lu.Host, pu.Host) || l == page {
			continue
		}
		if out = append(out, l); len(out) == n {
			break
		}
	}
	return out
}

// rankSubpages orders candidate URLs by how many target terms their path,
// query and (when indexed) title hold, ties in document order, and keeps n.
func rankSubpages(cands []string, indexed map[string]*cariv1.Result, terms []string, n int) []string {
	score := func(u string) int {
		var hay string
		if pu, err := url.Parse(u); err == nil {
			hay = strings.ToLower(pu.Path + " " + pu.RawQuery)
		}
		if d := indexed[u]; d != nil {
			hay += " " + strings.ToLower(d.GetTitle())
		}
		s := 0
		for _, t := range terms {
			if strings.Contains(hay, t) {
				s++
			}
		}
		return s
	}
	ranked := slices.Clone(cands)
	slices.SortStableFunc(ranked, func(a, b string) int { return score(b) - score(a) })
	if len(ranked) > n {
		ranked = ranked[:n]
	}
	return ranked
}
