package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/extract"
)

// liveRobotsTTL is how long a host's robots.txt is trusted by a Live
// fetcher before it is read again; a crawl reads it once per run instead.
const liveRobotsTTL = time.Hour

// liveMaxHosts bounds the hosts a Live fetcher remembers (robots.txt and
// politeness); past it, hosts idle for a while are forgotten.
const liveMaxHosts = 10000

// Live fetches single pages on demand (Exa's livecrawl): the same HTTP
// client, address guard, body and redirect limits, robots.txt rules,
// User-Agent and extraction as a crawl, and the same per-host politeness
// (a delay between requests, Crawl-delay, parallelism), kept across the
// calls of one Live so that many requests for one site cannot hammer it.
// It is safe for concurrent use. It writes nothing: the caller indexes
// the pages it returns.
type Live struct {
	c *Crawler

	mu    sync.Mutex
	hosts map[string]*liveHost
}

// liveHost is what a Live fetcher knows about one host.
type liveHost struct {
	robots *robotsRules
	readAt time.Time
	// reading is closed when the robots.txt read under way ends.
	reading chan struct{}
	// next is the earliest start of the next request to the host.
	next time.Time
	// slots holds one token per request in flight to the host.
	slots chan struct{}
}

// LivePage is a page a Live fetcher fetched and extracted.
type LivePage struct {
	// Document is the page as a crawl would index it: URL (canonical,
	// after redirects), ID, Crawled and ContentHash set.
	Document cari.Document
	// Requested is the URL asked for, in canonical form; it differs from
	// Document.URL when the page redirected.
	Requested string
	// Links and ImageLinks are the page's out-links and images.
	Links, ImageLinks []string
	// Header and Body are the response as fetched, for other views of
	// the page (its HTML, its sections).
	Header http.Header
	Body   []byte
}

// LiveError is why a Live fetch failed. Reason is one of a crawl's error
// and skip reasons ("robots", "private_address", "timeout", "dns",
// "connection", "tls", "http_4xx", "http_5xx", "not_html", "too_large",
// "noindex", "too_many_redirects", "bad_redirect", "extract", "fetch"),
// or "unsupported_url" for a URL that is not an absolute http(s) URL.
type LiveError struct {
	URL    string
	Reason string
	// Status is the HTTP status of the answer, when there was one.
	Status int
	Err    error
}

func (e *LiveError) Error() string {
	msg := fmt.Sprintf("live fetch of %s: %s", e.URL, e.Reason)
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *LiveError) Unwrap() error { return e.Err }

// NewLive returns a Live fetcher with the options of a crawl that concern
// one fetch: AllowPrivate, AllowedNetworks, Contact, HostDelay,
// HostParallelism, MaxCrawlDelay, RequestTimeout, MaxRedirects,
// MaxBodyBytes, Concurrency (idle connections kept), Logger and Resolver.
// Seeds, scope and frontier options are not used.
func NewLive(opts Options) *Live {
	opts = opts.withDefaults()
	policy := addressPolicy{allowPrivate: opts.AllowPrivate, allowed: opts.AllowedNetworks}
	c := &Crawler{opts: opts, log: opts.Logger, robots: &robotsCache{}}
	c.client = newHTTPClient(opts, policy, c.robots)
	c.scope = &scope{policy: policy}
	return &Live{c: c, hosts: make(map[string]*liveHost)}
}

// Fetch fetches rawURL and extracts it, following redirects (each target
// checked against robots.txt and the address guard, as a crawl checks
// it) up to MaxRedirects. ctx bounds the whole fetch, the wait for the
// host's turn included. A failure is a *LiveError.
func (l *Live) Fetch(ctx context.Context, rawURL string) (LivePage, error) {
	u, err := extract.Canonicalize(rawURL)
	if err != nil || len(u) > cari.MaxURLBytes {
		return LivePage{}, &LiveError{URL: rawURL, Reason: "unsupported_url", Err: err}
	}
	requested := u
	for hops := 0; ; hops++ {
		res, err := l.fetchOne(ctx, u)
		if err != nil {
			return LivePage{}, err
		}
		if s := res.status; s >= 300 && s < 400 {
			if hops >= l.c.opts.MaxRedirects {
				return LivePage{}, &LiveError{URL: requested, Reason: "too_many_redirects", Status: s}
			}
			next, err := redirectTarget(u, res.header.Get("Location"))
			if err != nil {
				return LivePage{}, &LiveError{URL: requested, Reason: "bad_redirect", Status: s, Err: err}
			}
			u = next
			continue
		}
		return l.page(requested, u, res)
	}
}

// fetchOne fetches one URL, without following a redirect, once robots.txt
// allows it and the host's politeness lets it start.
func (l *Live) fetchOne(ctx context.Context, u string) (*fetchResult, error) {
	if err := l.c.scope.policy.checkURLHost(u); err != nil {
		return nil, &LiveError{URL: u, Reason: "private_address", Err: err}
	}
	host := hostOf(u)
	rules, err := l.robotsFor(ctx, host)
	if err != nil {
		return nil, &LiveError{URL: u, Reason: "timeout", Err: err}
	}
	switch {
	case rules.blocked == "robots_unavailable":
		return nil, &LiveError{URL: u, Reason: "robots", Err: errors.New("robots.txt could not be read; RFC 9309 says to assume the host allows nothing")}
	case rules.blocked != "":
		return nil, &LiveError{URL: u, Reason: rules.blocked}
	case !rules.allowed(u):
		return nil, &LiveError{URL: u, Reason: "robots", Err: errors.New("robots.txt disallows it")}
	}
	release, err := l.acquire(ctx, host, rules.crawlDelay)
	if err != nil {
		return nil, &LiveError{URL: u, Reason: "timeout", Err: err}
	}
	defer release()
	client := *l.c.client // colly sets its client's redirect handler; fetches run at once
	col, err := l.c.newCollector(ctx, &client)
	if err != nil {
		return nil, &LiveError{URL: u, Reason: "fetch", Err: err}
	}
	res, err := l.c.fetch(col, u, nil)
	if err != nil {
		reason, _ := errorReason(err)
		if ctx.Err() != nil {
			reason = "timeout"
		}
		return nil, &LiveError{URL: u, Reason: reason, Err: err}
	}
	switch s := res.status; {
	case s >= 300 && s < 400:
		return res, nil
	case s >= 500:
		return nil, &LiveError{URL: u, Reason: "http_5xx", Status: s}
	case s >= 400:
		return nil, &LiveError{URL: u, Reason: "http_4xx", Status: s}
	case s < 200 || s > 299:
		return nil, &LiveError{URL: u, Reason: fmt.Sprintf("http_%dxx", s/100), Status: s}
	case res.skip != "":
		return nil, &LiveError{URL: u, Reason: res.skip, Status: s}
	}
	return res, nil
}

// redirectTarget resolves a Location header against the URL that sent it.
func redirectTarget(from, loc string) (string, error) {
	if loc == "" {
		return "", errors.New("redirect without a Location")
	}
	base, _ := url.Parse(from)
	ref, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	return extract.CanonicalURL(base.ResolveReference(ref))
}

// page extracts a fetched 2xx answer as a crawl would.
func (l *Live) page(requested, u string, res *fetchResult) (LivePage, error) {
	pageURL, _ := url.Parse(u)
	p, err := extract.Fetched(pageURL, res.header, res.body)
	switch {
	case errors.Is(err, extract.ErrNoIndex):
		return LivePage{}, &LiveError{URL: u, Reason: "noindex", Status: res.status}
	case errors.Is(err, extract.ErrNotPage):
		return LivePage{}, &LiveError{URL: u, Reason: "not_html", Status: res.status, Err: err}
	case err != nil:
		return LivePage{}, &LiveError{URL: u, Reason: "extract", Status: res.status, Err: err}
	}
	doc := p.Document
	doc.URL = u
	doc.ID = cari.DocumentID(u)
	doc.Crawled = time.Now().UTC()
	doc.ContentHash = cari.ContentHash(doc.Text)
	return LivePage{Document: doc, Requested: requested, Links: p.Links, ImageLinks: p.ImageLinks,
		Header: res.header, Body: res.body}, nil
}

// host returns the record of host, creating it; l.mu is held.
func (l *Live) host(host string) *liveHost {
	h := l.hosts[host]
	if h != nil {
		return h
	}
	if len(l.hosts) >= liveMaxHosts {
		l.forgetIdle()
	}
	h = &liveHost{slots: make(chan struct{}, l.c.opts.hostParallelism(host))}
	l.hosts[host] = h
	return h
}

// forgetIdle drops the hosts with no request in flight or due, and no
// robots.txt read under way; l.mu is held.
func (l *Live) forgetIdle() {
	now := time.Now()
	for k, h := range l.hosts {
		if h.reading == nil && len(h.slots) == 0 && h.next.Before(now) {
			delete(l.hosts, k)
			l.c.robots.forget(k)
		}
	}
}

// robotsFor returns host's robots.txt rules, read at most once per
// liveRobotsTTL however many fetches want them at once. It fails only
// when ctx ends first.
func (l *Live) robotsFor(ctx context.Context, host string) (*robotsRules, error) {
	l.mu.Lock()
	h := l.host(host)
	for h.reading != nil {
		ch := h.reading
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		l.mu.Lock()
	}
	if h.robots != nil && time.Since(h.readAt) < liveRobotsTTL {
		r := h.robots
		l.mu.Unlock()
		return r, nil
	}
	ch := make(chan struct{})
	h.reading = ch
	l.mu.Unlock()

	r := l.c.fetchRobots(ctx, host)
	l.mu.Lock()
	defer l.mu.Unlock()
	h.reading = nil
	close(ch)
	if ctx.Err() != nil {
		return nil, ctx.Err() // a read cut short says nothing of the host
	}
	h.robots, h.readAt = r, time.Now()
	return r, nil
}

// acquire waits for host's turn: a free request slot, and the host delay
// (or its longer Crawl-delay) after the previous request's start. A turn
// that would come after ctx's deadline is refused at once rather than
// waited for. release frees the slot.
func (l *Live) acquire(ctx context.Context, host string, crawlDelay time.Duration) (release func(), err error) {
	l.mu.Lock()
	h := l.host(host)
	l.mu.Unlock()
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release = func() { <-h.slots }
	delay := max(l.c.opts.hostDelay(host), min(crawlDelay, l.c.opts.MaxCrawlDelay))
	l.mu.Lock()
	start := time.Now()
	if h.next.After(start) {
		start = h.next
	}
	if d, ok := ctx.Deadline(); ok && start.After(d) {
		l.mu.Unlock()
		release()
		return nil, fmt.Errorf("the host's next turn is in %s, after the deadline: %w", time.Until(start).Round(time.Millisecond), context.DeadlineExceeded)
	}
	h.next = start.Add(delay)
	l.mu.Unlock()
	if l.c.opts.scheduled != nil {
		l.c.opts.scheduled(host, start)
	}
	if wait := time.Until(start); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
	}
	return release, nil
}
