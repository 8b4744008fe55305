package crawler

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// BlockedAddressError is the error of a connection the crawler refused to
// make: the address is not on the public Internet (loopback, private,
// link-local, cloud metadata and the like), and private crawling is off.
type BlockedAddressError struct {
	Addr netip.Addr
	// Kind names the address range, for example "loopback" or "cloud
	// metadata".
	Kind string
}

func (e *BlockedAddressError) Error() string {
	return fmt.Sprintf("%s is a %s address; Cari does not crawl loopback, private, link-local or cloud-metadata addresses unless private crawling is allowed", e.Addr, e.Kind)
}

// namedPrefix is an address range that is not the public Internet.
type namedPrefix struct {
	prefix netip.Prefix
	kind   string
}

// specialRanges lists the ranges the guard refuses, most specific first so
// that the metadata endpoints are named as such. Sources: the IANA IPv4 and
// IPv6 special-purpose address registries and the cloud providers' docs.
var specialRanges = func() []namedPrefix {
	r := []struct{ cidr, kind string }{
		{"169.254.169.254/32", "cloud metadata"}, // AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack
		{"169.254.170.2/32", "cloud metadata"},   // AWS ECS task metadata
		{"100.100.100.200/32", "cloud metadata"}, // Alibaba Cloud
		{"168.63.129.16/32", "cloud metadata"},   // Azure wire server (a public address)
		{"fd00:ec2::254/128", "cloud metadata"},  // AWS over IPv6
		{"0.0.0.0/8", "unspecified"},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "shared (carrier-grade NAT)"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "IETF protocol assignment"},
		{"192.0.2.0/24", "documentation"},
		{"192.88.99.0/24", "6to4 relay"},
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "benchmarking"},
		{"198.51.100.0/24", "documentation"},
		{"203.0.113.0/24", "documentation"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"},
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"::/96", "IPv4-compatible"},
		{"64:ff9b:1::/48", "private"},
		{"100::/64", "discard"},
		{"2001::/23", "IETF protocol assignment"},
		{"2001:db8::/32", "documentation"},
		{"fc00::/7", "private"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local"},
		{"ff00::/8", "multicast"},
	}
	out := make([]namedPrefix, len(r))
	for i, x := range r {
		out[i] = namedPrefix{netip.MustParsePrefix(x.cidr), x.kind}
	}
	return out
}()

var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// addressKind returns the name of the special range a holds, or "" for a
// public address. An IPv6 address that carries an IPv4 one (mapped, NAT64,
// 6to4) is judged by the IPv4 address it reaches.
func addressKind(a netip.Addr) string {
	a = a.WithZone("").Unmap()
	if !a.IsValid() {
		return "invalid"
	}
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64Prefix.Contains(a):
			if k := addressKind(netip.AddrFrom4([4]byte(b[12:16]))); k != "" {
				return k
			}
		case sixToFour.Contains(a):
			if k := addressKind(netip.AddrFrom4([4]byte(b[2:6]))); k != "" {
				return k
			}
		}
	}
	for _, r := range specialRanges {
		if r.prefix.Contains(a) {
			return r.kind
		}
	}
	return ""
}

// addressPolicy decides which addresses the crawler may connect to.
type addressPolicy struct {
	// allowPrivate permits every address.
	allowPrivate bool
	// allowed are ranges permitted although they are special (an intranet,
	// a test server on loopback).
	allowed []netip.Prefix
}

// check returns a *BlockedAddressError when a may not be connected to.
func (p addressPolicy) check(a netip.Addr) error {
	if p.allowPrivate {
		return nil
	}
	a = a.WithZone("").Unmap()
	kind := addressKind(a)
	if kind == "" {
		return nil
	}
	for _, pr := range p.allowed {
		if pr.Contains(a) {
			return nil
		}
	}
	return &BlockedAddressError{Addr: a, Kind: kind}
}

// control is a net.Dialer Control function: it runs after the name was
// resolved and before the connection is made, on the very address that will
// be connected to, so a name that resolves to a public address when it is
// checked and to a private one when it is used (DNS rebinding) cannot get
// around it, and neither can a redirect.
func (p addressPolicy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %q: not an IP address and port", address)
	}
	return p.check(ap.Addr())
}

// checkURLHost refuses a URL whose host is an IP literal the policy blocks,
// without connecting. Host names are checked when they are dialled.
func (p addressPolicy) checkURLHost(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return nil
	}
	return p.check(a)
}

// ParseNetworks reads CIDR ranges ("10.20.0.0/16") for AllowedNetworks;
// an error names field (a flag or an API field) and the range.
func ParseNetworks(field string, ns []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, n := range ns {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", field, n, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// CheckSeed reports, before a crawl starts, whether a seed URL's host is
// one the crawler will refuse to connect to: an IP literal or a name that
// resolves (with resolver, or the system's when nil) to a blocked address.
// It returns a *BlockedAddressError naming the address. allowed lists
// ranges permitted although private.
func CheckSeed(ctx context.Context, resolver *net.Resolver, seed string, allowed []netip.Prefix) error {
	u, err := url.Parse(seed)
	if err != nil {
		return err
	}
	p := addressPolicy{allowed: allowed}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		return p.check(a)
	}
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		// The crawl will count the failure; a seed that does not resolve
		// now is no reason to refuse the whole crawl.
		return nil
	}
	for _, a := range addrs {
		if err := p.check(a); err != nil {
			return err
		}
	}
	return nil
}

// inflateGuard decompresses gzip bodies the transport left compressed, and
// at most limit bytes of each. Go's transport inflates the bodies it asked
// for gzip itself (and colly's size limit then counts inflated bytes), but
// colly inflates a body sent gzip-compressed unasked (a Content-Type naming
// gzip, a path ending in .xml.gz) after its limit, so a small gzip bomb
// would inflate into gigabytes. Past limit the body ends, and the page is
// skipped as too large.
type inflateGuard struct {
	next  http.RoundTripper
	limit int64
}

func (g inflateGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := g.next.RoundTrip(req)
	if err != nil || resp.Uncompressed {
		return resp, err
	}
	enc := strings.ToLower(resp.Header.Get("Content-Encoding"))
	typ := strings.ToLower(resp.Header.Get("Content-Type"))
	if !strings.Contains(enc, "gzip") && (enc != "" || !strings.Contains(typ, "gzip")) &&
		!strings.HasSuffix(strings.ToLower(req.URL.Path), ".xml.gz") {
		return resp, nil
	}
	resp.Body = &boundedGunzip{src: resp.Body, limit: g.limit}
	resp.Uncompressed = true
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	return resp, nil
}

// boundedGunzip inflates src, ending after limit bytes.
type boundedGunzip struct {
	src   io.ReadCloser
	limit int64
	r     io.Reader
}

func (b *boundedGunzip) Read(p []byte) (int, error) {
	if b.r == nil {
		zr, err := gzip.NewReader(b.src)
		if err != nil {
			return 0, fmt.Errorf("gzip body: %w", err)
		}
		b.r = io.LimitReader(zr, b.limit)
	}
	return b.r.Read(p)
}

func (b *boundedGunzip) Close() error { return b.src.Close() }
