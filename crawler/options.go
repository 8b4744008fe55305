package crawler

import (
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"
)

// The defaults of Options, exported so that the flags of cari crawl show
// and fill in the same values; withDefaults and the per-host rules apply
// them.
const (
	DefaultMaxPages        = 1000
	DefaultMaxDepth        = 3
	DefaultConcurrency     = 16
	DefaultHostParallelism = 1
	DefaultHostDelay       = time.Second
	DefaultRequestTimeout  = 30 * time.Second
	DefaultMaxBodyBytes    = 8 << 20
	DefaultRetries         = 2
)

// Options configure a crawl. The zero value of every field but Seeds is
// usable; defaults are set in one place, withDefaults.
type Options struct {
	// Seeds are the URLs the crawl starts from, at depth 0. Required.
	Seeds []string
	// MaxPages is how many fetches that got a response the crawl makes,
	// across restarts. Default 1000.
	MaxPages int
	// MaxDepth is how many link hops from a seed are followed. Default 3;
	// SeedsOnly fetches only the seeds.
	MaxDepth int
	// AllowedDomains are the domains the crawl may fetch from, each with
	// its subdomains; "*" allows any. Default: the seeds' domains.
	AllowedDomains []string
	// Include and Exclude are RE2 patterns on URLs found by following
	// links (not seeds, redirects or canonical links): a URL must match
	// one Include pattern (when there are any) and no Exclude pattern.
	Include, Exclude []string
	// AllowPrivate lets the crawler connect to loopback, private,
	// link-local and cloud-metadata addresses.
	AllowPrivate bool
	// AllowedNetworks are address ranges allowed although special (an
	// intranet, a test server on loopback), without AllowPrivate.
	AllowedNetworks []netip.Prefix
	// Contact is a URL or email address for site operators, put in the
	// User-Agent: "Cari/1.0 (+CONTACT)". Default DefaultContact.
	Contact string
	// Concurrency is the most requests in flight over all hosts. Default 16.
	Concurrency int
	// HostParallelism is the most requests in flight to one host. Default
	// 1 (4 for loopback hosts, the operator's own machine).
	HostParallelism int
	// HostDelay is the least time between the starts of two requests to
	// one host; a longer robots.txt Crawl-delay wins. Default 1s (none for
	// loopback hosts); negative means no delay.
	HostDelay time.Duration
	// MaxCrawlDelay caps a robots.txt Crawl-delay. Default 1 minute.
	MaxCrawlDelay time.Duration
	// RequestTimeout bounds one request, body included. Default 30s.
	RequestTimeout time.Duration
	// MaxRedirects is how many redirects in a row are followed. Default 5.
	MaxRedirects int
	// MaxBodyBytes is the largest body fetched; larger pages are skipped
	// ("too_large"). Default 8 MiB.
	MaxBodyBytes int
	// Retries is how often a fetch that timed out, lost its connection or
	// got a 5xx answer is tried again, with exponential backoff from
	// RetryBackoff. Default 2; negative means none.
	Retries int
	// RetryBackoff is the wait before the first retry. Default 1s.
	RetryBackoff time.Duration
	// NoSitemaps turns off sitemap discovery.
	NoSitemaps bool
	// Fresh starts the crawl over even when an interrupted crawl with the
	// same seeds and scope could be resumed.
	Fresh bool
	// FlushEvery is how many documents are handed to the sink between two
	// flushes; FlushInterval the longest a document waits for one.
	// Defaults 128 and 2s: small enough that indexing runs beside the
	// crawl rather than after it, large enough for efficient batches.
	FlushEvery    int
	FlushInterval time.Duration
	// Logger receives the crawl's log; nil discards.
	Logger *slog.Logger
	// Resolver looks up host names; nil uses the system's. The address
	// guard checks every address it returns before connecting.
	Resolver *net.Resolver

	// dialCheck, when set (tests only), runs after the address guard on
	// every connection the crawler makes.
	dialCheck func(address string) error
	// scheduled, when set (tests only), is told the host and the time of
	// every request the frontier lets start: the politeness schedule as
	// the crawler kept it, which load cannot skew the way the times a
	// server sees the requests arrive can.
	scheduled func(host string, at time.Time)
}

func (o Options) withDefaults() Options {
	if o.MaxPages <= 0 {
		o.MaxPages = DefaultMaxPages
	}
	if o.MaxDepth == 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.Contact == "" {
		o.Contact = DefaultContact
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxCrawlDelay <= 0 {
		o.MaxCrawlDelay = time.Minute
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 5
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = time.Second
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = 128
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o Options) userAgent() string {
	return "Cari/" + Version + " (+" + o.Contact + ")"
}

func (o Options) depthLimit() int {
	if o.MaxDepth < 0 {
		return 0
	}
	return o.MaxDepth
}

func (o Options) retries() int { return max(o.Retries, 0) }

// isLoopbackHost reports whether a host key (scheme://authority) names
// the local machine by a loopback literal or "localhost".
func isLoopbackHost(host string) bool {
	_, authority, _ := strings.Cut(host, "://")
	h := authority
	if i := strings.LastIndex(authority, ":"); i >= 0 && !strings.HasSuffix(authority, "]") {
		h = authority[:i]
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Unmap().IsLoopback()
}

func (o Options) hostDelay(host string) time.Duration {
	switch {
	case o.HostDelay < 0:
		return 0
	case o.HostDelay > 0:
		return o.HostDelay
	case isLoopbackHost(host):
		return 0
	}
	return DefaultHostDelay
}

func (o Options) hostParallelism(host string) int {
	switch {
	case o.HostParallelism > 0:
		return o.HostParallelism
	case isLoopbackHost(host):
		return 4
	}
	return DefaultHostParallelism
}
