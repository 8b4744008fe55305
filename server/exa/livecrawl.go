package exa

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// LiveCrawler fetches a page at request time (Exa's livecrawl, maxAgeHours,
// subpages and extras) and writes it to the index before it returns, so
// that the contents looked up afterwards are the fresh ones. The server's
// fetches through the crawler, with its address guard, robots.txt,
// politeness and limits. A failure is a *LiveFailure.
type LiveCrawler interface {
	// LiveCrawl fetches url into the index of collection, the collection
	// (or alias) the request's path names; "" is the default one.
	LiveCrawl(ctx context.Context, collection, url string) (LivePage, error)
}

// LivePage is a page a LiveCrawler fetched and indexed.
type LivePage struct {
	// URL is the canonical URL the page was indexed under: the one asked
	// for, or where it redirected.
	URL string
	// Title is the page's title.
	Title string
	// Links are the page's out-links and ImageLinks its images, absolute.
	Links, ImageLinks []string
	// Text returns the page's text in another form than the indexed main
	// text (HTML tags kept, or other sections of the page), for
	// contents.text's options; nil when the crawler cannot.
	Text func(TextView) (string, error)
}

// TextView is a form of a page's text other than the indexed main text.
type TextView struct {
	// HTML keeps the markup of the text.
	HTML bool
	// Sections are the parts of the page to return, by Exa's section
	// tags (header, navigation, banner, body, sidebar, footer, metadata);
	// empty means the main content (body).
	Sections []string
}

// LiveFailure is why a live fetch failed. Reason is the crawler's name
// for it (see crawler.LiveError): "robots", "private_address",
// "timeout", "dns", "connection", "tls", "http_4xx", "http_5xx",
// "not_html", "too_large", "noindex", "too_many_redirects",
// "bad_redirect", "extract", "fetch", "unsupported_url", or "index" when
// the page was fetched but could not be written.
type LiveFailure struct {
	Reason string
	// HTTPStatus is the status the site answered, when it answered.
	HTTPStatus int
	Err        error
}

func (f *LiveFailure) Error() string {
	msg := f.Reason
	if f.HTTPStatus != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", f.HTTPStatus)
	}
	if f.Err != nil {
		msg += ": " + f.Err.Error()
	}
	return msg
}

func (f *LiveFailure) Unwrap() error { return f.Err }

// Livecrawl's limits and defaults, as Exa documents them.
const (
	defaultLivecrawlTimeout = 10 * time.Second
	maxLivecrawlTimeout     = 90 * time.Second
	// maxLiveFetches is how many pages one request fetches at once.
	maxLiveFetches = 8
)

// exaLive are the contents fields that decide when a page is fetched live.
type exaLive struct {
	Livecrawl        string `json:"livecrawl"`
	LivecrawlTimeout int    `json:"livecrawlTimeout"`
	MaxAgeHours      *int   `json:"maxAgeHours"`
	// SnapshotAsOf asks for the newest stored version at or before an
	// instant. Cari keeps one version of each page, so it is served when
	// it was crawled by then and is the page's error otherwise.
	SnapshotAsOf string `json:"snapshotAsOf"`
}

// liveMode is when a page is fetched live.
type liveMode int

const (
	// liveNever serves the index's copy only.
	liveNever liveMode = iota
	// liveFallback fetches what the index does not have.
	liveFallback
	// liveStale fetches what the index has not crawled within maxAge,
	// and what it does not have; a failure falls back to the copy.
	liveStale
	// livePreferred fetches every page, falling back to the copy.
	livePreferred
	// liveAlways fetches every page; a failure is the page's error.
	liveAlways
)

// livePolicy is a request's livecrawl settings, validated.
type livePolicy struct {
	mode    liveMode
	maxAge  time.Duration
	timeout time.Duration
	// asked is set when the request named livecrawl or maxAgeHours.
	asked bool
	// view is the form of the text asked for other than the main text,
	// made from each fetched page and cut to maxChars; nil for none.
	view     *TextView
	maxChars int
	// asOf is snapshotAsOf: only copies crawled at or before it are
	// served, and nothing is fetched live; zero for none.
	asOf time.Time
}

// policy validates the fields; def is the mode when neither livecrawl nor
// maxAgeHours is given (fallback for /contents, never for searches, whose
// results are all indexed). maxAgeHours, Exa's newer field, wins over
// livecrawl when both are given.
func (o exaLive) policy(def liveMode) (livePolicy, error) {
	p := livePolicy{mode: def, timeout: defaultLivecrawlTimeout, asked: o.Livecrawl != "" || o.MaxAgeHours != nil}
	switch t := o.LivecrawlTimeout; {
	case t < 0 || time.Duration(t)*time.Millisecond > maxLivecrawlTimeout:
		return p, badRequest("livecrawlTimeout: must be between 1 and %d milliseconds, got %d", maxLivecrawlTimeout.Milliseconds(), t)
	case t > 0:
		p.timeout = time.Duration(t) * time.Millisecond
	}
	switch o.Livecrawl {
	case "":
	case "never":
		p.mode = liveNever
	case "fallback", "auto":
		p.mode = liveFallback
	case "preferred":
		p.mode = livePreferred
	case "always":
		p.mode = liveAlways
	default:
		return p, badRequest("livecrawl: must be never, fallback, preferred or always, got %q", o.Livecrawl)
	}
	if h := o.MaxAgeHours; h != nil {
		switch {
		case *h < -1:
			return p, badRequest("maxAgeHours: must be -1 (never fetch live), 0 (always) or a number of hours, got %d", *h)
		case *h == -1:
			p.mode = liveNever
		case *h == 0:
			p.mode = liveAlways
		default:
			p.mode, p.maxAge = liveStale, time.Duration(*h)*time.Hour
		}
	}
	if o.SnapshotAsOf != "" {
		return o.snapshot(p)
	}
	return p, nil
}

// snapshot applies snapshotAsOf to p: a stored version is asked for, so a
// live fetch, which would be newer, cannot be asked for too.
func (o exaLive) snapshot(p livePolicy) (livePolicy, error) {
	t, err := parseExaDate("snapshotAsOf", o.SnapshotAsOf)
	if err != nil {
		return p, err
	}
	if o.Livecrawl != "" && o.Livecrawl != "never" {
		return p, badRequest("snapshotAsOf: asks for a stored version, which livecrawl %q (a live fetch) contradicts; leave one out", o.Livecrawl)
	}
	if o.MaxAgeHours != nil && *o.MaxAgeHours != -1 {
		return p, badRequest("snapshotAsOf: asks for a stored version, which maxAgeHours %d (a live fetch of older copies) contradicts; leave one out", *o.MaxAgeHours)
	}
	p.mode, p.asOf = liveNever, t
	return p, nil
}

// servable says whether a stored copy crawled at crawled may be served
// under snapshotAsOf; one with no crawl time is not known to qualify.
func (p livePolicy) servable(crawled *timestamppb.Timestamp) bool {
	return p.asOf.IsZero() || (crawled != nil && !crawled.AsTime().After(p.asOf))
}

// wants says whether a page is fetched live: found says whether the index
// has it, crawled when it was crawled.
func (p livePolicy) wants(found bool, crawled time.Time, now time.Time) bool {
	switch p.mode {
	case liveFallback:
		return !found
	case liveStale:
		return !found || now.Sub(crawled) > p.maxAge
	case livePreferred, liveAlways:
		return true
	}
	return false
}

// fallsBack says whether a failed fetch leaves the index's copy in place.
func (p livePolicy) fallsBack() bool { return p.mode != liveAlways }

// checkLive refuses a request that needs live fetches from a server that
// makes none, and returns a warning for one that can do without them.
func (a *exaAPI) checkLive(p livePolicy) (warning string, err error) {
	if a.live != nil || p.mode == liveNever {
		return "", nil
	}
	if p.mode == liveAlways {
		return "", status.Error(codes.Unimplemented, "livecrawl: "+noLiveFetches+"; use livecrawl \"preferred\" or \"never\" to be served the indexed copy")
	}
	if !p.asked {
		return "", nil
	}
	return "livecrawl: " + noLiveFetches + "; the indexed copy is served", nil
}

// noLiveFetches is why a server started without --livecrawl fetches no page.
const noLiveFetches = "this server does not fetch pages live (start it with cari serve --livecrawl)"

// liveResult is the outcome of one live fetch.
type liveResult struct {
	page LivePage
	err  error
	// timedOut is set when the fetch ran past livecrawlTimeout.
	timedOut bool
}

// fetchLive fetches urls (each once) at most maxLiveFetches at a time,
// all within the policy's timeout together (so that a request's live
// fetches take at most that long, however many it has), and returns the
// outcome by URL.
func (a *exaAPI) fetchLive(ctx context.Context, p livePolicy, urls []string) map[string]*liveResult {
	fctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	out := make(map[string]*liveResult, len(urls))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxLiveFetches)
	for _, u := range urls {
		if _, dup := out[u]; dup {
			continue
		}
		out[u] = nil
		wg.Go(func() {
			var page LivePage
			var err error
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				page, err = a.live.LiveCrawl(fctx, a.collection, u)
			case <-fctx.Done():
				err = &LiveFailure{Reason: "timeout", Err: fctx.Err()}
			}
			r := &liveResult{page: page, err: err, timedOut: err != nil && errors.Is(fctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil}
			mu.Lock()
			out[u] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// exaCrawlError is the status error Exa reports for a failed live fetch.
func exaCrawlError(r *liveResult) *exaStatusError {
	var f *LiveFailure
	if !errors.As(r.err, &f) {
		f = &LiveFailure{Reason: "fetch"}
	}
	switch f.Reason {
	case "timeout":
		if r.timedOut {
			return &exaStatusError{Tag: "CRAWL_LIVECRAWL_TIMEOUT", HTTPStatusCode: http.StatusGatewayTimeout}
		}
		return &exaStatusError{Tag: "CRAWL_TIMEOUT", HTTPStatusCode: http.StatusGatewayTimeout}
	case "http_4xx":
		switch f.HTTPStatus {
		case http.StatusNotFound, http.StatusGone:
			return &exaStatusError{Tag: "CRAWL_NOT_FOUND", HTTPStatusCode: f.HTTPStatus}
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusPaymentRequired, http.StatusUnavailableForLegalReasons:
			return &exaStatusError{Tag: "SOURCE_NOT_AVAILABLE", HTTPStatusCode: f.HTTPStatus}
		case http.StatusRequestTimeout:
			return &exaStatusError{Tag: "CRAWL_TIMEOUT", HTTPStatusCode: f.HTTPStatus}
		}
	case "robots", "private_address", "noindex", "dns", "connection", "tls":
		return &exaStatusError{Tag: "SOURCE_NOT_AVAILABLE", HTTPStatusCode: http.StatusForbidden}
	case "unsupported_url":
		// Exa's docs name UNSUPPORTED_URL, but its spec's tags do not.
		return &exaStatusError{Tag: "CRAWL_UNKNOWN_ERROR", HTTPStatusCode: http.StatusBadRequest}
	}
	code := f.HTTPStatus
	if code < 400 {
		code = http.StatusInternalServerError
	}
	return &exaStatusError{Tag: "CRAWL_UNKNOWN_ERROR", HTTPStatusCode: code}
}
