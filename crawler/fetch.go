package crawler

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/cari-search/cari/extract"
)

// followRedirectsKey marks a request (robots.txt, sitemaps) whose
// redirects the HTTP client follows, up to the int it holds. Pages'
// redirects are not followed by the client: their targets go through the
// frontier like any URL, so that each is checked for scope and robots.txt,
// fetched politely and fetched once.
type followRedirectsKey struct{}

const fetchResultKey = "cari.fetch"

// fetchResult is what colly's callbacks record about one page fetch.
type fetchResult struct {
	status int
	header http.Header
	body   []byte
	// skip is set when the response was refused from its headers:
	// "not_html" or "too_large".
	skip string
}

// newHTTPClient returns the client every request of a crawl goes through:
// the address guard in the dialer, no proxy (a proxy would be dialled
// instead of the page's host, out of the guard's sight), no cookies, and
// robots.txt answered from the crawl's cache for colly's own check.
func newHTTPClient(o Options, policy addressPolicy, robots *robotsCache) *http.Client {
	control := policy.control
	if o.dialCheck != nil {
		control = func(network, address string, c syscall.RawConn) error {
			if err := policy.control(network, address, c); err != nil {
				return err
			}
			return o.dialCheck(address)
		}
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: control, Resolver: o.Resolver}
	robots.next = inflateGuard{limit: int64(max(o.MaxBodyBytes, maxSitemapBytes)) + 1, next: &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * o.Concurrency,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: o.RequestTimeout,
		ExpectContinueTimeout: time.Second,
	}}
	return &http.Client{
		Transport: robots,
		Timeout:   o.RequestTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			n, _ := req.Context().Value(followRedirectsKey{}).(int)
			if len(via) > n || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// newCollector returns the colly collector that fetches pages: robots.txt
// obeyed (colly's Init turns that off; Cari turns it back on), Cari's
// User-Agent, the guarded client, a global concurrency limit, a body size
// limit one byte over the maximum (so that a larger body is seen as such),
// and every HTTP status handed to Cari rather than turned into an error.
// Per-host politeness is the frontier's, which knows about Crawl-delay.
// colly sets the client's redirect handler, so collectors made at once
// each need their own client (a copy of c.client shares its transport).
func (c *Crawler) newCollector(ctx context.Context, client *http.Client) (*colly.Collector, error) {
	col := colly.NewCollector(
		colly.UserAgent(c.opts.userAgent()),
		colly.MaxBodySize(c.opts.MaxBodyBytes+1),
		colly.AllowURLRevisit(),
		colly.ParseHTTPErrorResponse(),
		colly.StdlibContext(ctx),
	)
	col.IgnoreRobotsTxt = false
	col.SetClient(client)
	col.SetRedirectHandler(client.CheckRedirect)
	if err := col.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: c.opts.Concurrency}); err != nil {
		return nil, err
	}
	col.OnResponseHeaders(func(r *colly.Response) {
		res, _ := r.Ctx.GetAny(fetchResultKey).(*fetchResult)
		if res == nil {
			return
		}
		res.status = r.StatusCode
		res.header = r.Headers.Clone()
		if r.StatusCode < 200 || r.StatusCode > 299 {
			r.Request.Abort() // the status says enough; don't read the body
			return
		}
		if !extract.Accepts(r.Headers.Get("Content-Type")) {
			res.skip = "not_html"
			r.Request.Abort()
			return
		}
		if n, err := strconv.ParseInt(r.Headers.Get("Content-Length"), 10, 64); err == nil && n > int64(c.opts.MaxBodyBytes) {
			res.skip = "too_large"
			r.Request.Abort()
		}
	})
	col.OnResponse(func(r *colly.Response) {
		if res, _ := r.Ctx.GetAny(fetchResultKey).(*fetchResult); res != nil {
			res.body = r.Body
		}
	})
	return col, nil
}

// fetch gets one page with colly, conditionally when rec holds validators.
func (c *Crawler) fetch(col *colly.Collector, u string, rec *urlRecord) (*fetchResult, error) {
	res := &fetchResult{}
	cctx := colly.NewContext()
	cctx.Put(fetchResultKey, res)
	hdr := http.Header{}
	hdr.Set("User-Agent", c.opts.userAgent())
	hdr.Set("Accept", "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1")
	if rec != nil {
		if rec.ETag != "" {
			hdr.Set("If-None-Match", rec.ETag)
		}
		if rec.LastModified != "" {
			hdr.Set("If-Modified-Since", rec.LastModified)
		}
	}
	err := col.Request(http.MethodGet, u, nil, cctx, hdr)
	if errors.Is(err, colly.ErrAbortedAfterHeaders) {
		err = nil
	}
	if err == nil && res.skip == "" && len(res.body) > c.opts.MaxBodyBytes {
		res.skip = "too_large"
	}
	return res, err
}

// errorReason names a failed fetch for the error counts, and says whether
// it is worth trying again.
func errorReason(err error) (reason string, retry bool) {
	var blocked *BlockedAddressError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	var netErr net.Error
	switch {
	case errors.As(err, &blocked):
		return "private_address", false
	case errors.Is(err, colly.ErrRobotsTxtBlocked):
		return "robots", false
	case errors.As(err, &dnsErr):
		return "dns", dnsErr.IsTemporary || dnsErr.IsTimeout
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		errors.As(err, &recErr), errors.As(err, &alert):
		return "tls", false
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout", true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.EPIPE):
		return "connection", true
	}
	return "fetch", false
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
