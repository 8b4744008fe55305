package crawler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/temoto/robotstxt"

	"github.com/cari-search/cari/extract"
)

// maxRobotsBytes is how much of a robots.txt is read; RFC 9309 asks
// crawlers to read at least 500 KiB.
const maxRobotsBytes = 512 << 10

// robotsRules is what one host's robots.txt allows Cari.
type robotsRules struct {
	group *robotstxt.Group
	// crawlDelay is the host's Crawl-delay for Cari, 0 if none.
	crawlDelay time.Duration
	// sitemaps are the Sitemap: lines.
	sitemaps []string
	// blocked, when set, is the skip reason for every URL of the host: the
	// robots.txt could not be read ("robots_unavailable", RFC 9309 says to
	// assume complete disallow) or the host's address is refused
	// ("private_address").
	blocked string
	// status and body are the answer as read (after redirects), kept for
	// the other workers of a shared crawl; status 0 when none was read.
	status int
	body   []byte
}

// allowed reports whether robots.txt lets Cari fetch the canonical URL u.
func (r *robotsRules) allowed(u string) bool {
	if r.group == nil {
		return true
	}
	pu, err := url.Parse(u)
	if err != nil {
		return false
	}
	p := pu.EscapedPath()
	if pu.RawQuery != "" {
		p += "?" + pu.RawQuery
	}
	return r.group.Test(p)
}

// robotsCache holds every host's robots.txt as Cari read it (after
// redirects) and answers colly's own robots.txt requests from it, so that
// colly's check and Cari's agree and a host is asked once.
type robotsCache struct {
	next http.RoundTripper
	mu   sync.Mutex
	m    map[string]cachedRobots // by robots.txt URL
}

type cachedRobots struct {
	status int
	body   []byte
}

type robotsFetchKey struct{}

// forget drops a host's robots.txt (host is scheme://authority), so that a
// long-lived Live fetcher does not keep every host's it ever read.
func (c *robotsCache) forget(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, host+"/robots.txt")
}

func (c *robotsCache) put(robotsURL string, status int, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]cachedRobots)
	}
	c.m[robotsURL] = cachedRobots{status, body}
}

// RoundTrip answers GET /robots.txt from the cache, except for Cari's own
// fetch (marked in the request's context), and passes everything else on.
func (c *robotsCache) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && req.URL.Path == "/robots.txt" && req.Context().Value(robotsFetchKey{}) == nil {
		c.mu.Lock()
		r, ok := c.m[req.URL.Scheme+"://"+req.URL.Host+"/robots.txt"]
		c.mu.Unlock()
		if ok {
			return &http.Response{
				Status:        fmt.Sprintf("%d %s", r.status, http.StatusText(r.status)),
				StatusCode:    r.status,
				Proto:         "HTTP/1.1",
				ProtoMajor:    1,
				ProtoMinor:    1,
				Header:        http.Header{"Content-Type": {"text/plain"}},
				Body:          io.NopCloser(bytes.NewReader(r.body)),
				ContentLength: int64(len(r.body)),
				Request:       req,
			}, nil
		}
	}
	return c.next.RoundTrip(req)
}

// fetchRobots reads host's robots.txt (host is scheme://authority),
// following up to five redirects as RFC 9309 asks.
func (c *Crawler) fetchRobots(ctx context.Context, host string) *robotsRules {
	robotsURL := host + "/robots.txt"
	ctx = context.WithValue(ctx, robotsFetchKey{}, true)
	ctx = context.WithValue(ctx, followRedirectsKey{}, 5)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, robotsURL, nil)
	if err != nil {
		return &robotsRules{blocked: "robots_unavailable"}
	}
	req.Header.Set("User-Agent", c.opts.userAgent())
	resp, err := c.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return &robotsRules{blocked: "robots_unavailable"} // the crawl is stopping
		}
		var blocked *BlockedAddressError
		if errors.As(err, &blocked) {
			c.log.Info("host refused: private address", "host", host, "reason", blocked.Error())
			return &robotsRules{blocked: "private_address"}
		}
		c.log.Warn("robots.txt unreachable; not crawling the host", "host", host, "error", err)
		return &robotsRules{blocked: "robots_unavailable"}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRobotsBytes))
	if err != nil {
		c.log.Warn("robots.txt unreadable; not crawling the host", "host", host, "error", err)
		return &robotsRules{blocked: "robots_unavailable"}
	}
	status := resp.StatusCode
	if status >= 300 && status < 400 {
		// Redirects beyond the limit: RFC 9309 says to treat it as
		// unavailable, which means no restrictions.
		status = http.StatusNotFound
	}
	c.robots.put(robotsURL, status, body)
	r := parseRobots(status, body)
	if r.blocked != "" {
		c.log.Warn("robots.txt unreadable or a server error; not crawling the host", "host", host, "status", status)
	}
	return r
}

// parseRobots turns a robots.txt answer into rules: a 5xx or an
// unparsable file blocks the host (RFC 9309), a 4xx allows everything.
func parseRobots(status int, body []byte) *robotsRules {
	if status >= 500 {
		return &robotsRules{blocked: "robots_unavailable", status: status, body: body}
	}
	data, err := robotstxt.FromStatusAndBytes(status, body)
	if err != nil {
		return &robotsRules{blocked: "robots_unavailable", status: status, body: body}
	}
	r := &robotsRules{group: data.FindGroup(extract.RobotsToken), sitemaps: data.Sitemaps, status: status, body: body}
	if r.group != nil {
		r.crawlDelay = r.group.CrawlDelay
	}
	return r
}

// sitemapURLs are the sitemaps to read for host: those robots.txt names
// on the host itself, or else /sitemap.xml.
func sitemapURLs(host string, r *robotsRules) []string {
	var out []string
	for _, s := range r.sitemaps {
		c, err := extract.Canonicalize(s)
		if err != nil || !strings.HasPrefix(c, host+"/") || slices.Contains(out, c) {
			continue
		}
		if out = append(out, c); len(out) == maxSitemapsPerHost {
			break
		}
	}
	if len(out) == 0 {
		out = append(out, host+"/sitemap.xml")
	}
	return out
}
