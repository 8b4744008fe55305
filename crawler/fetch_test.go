package crawler

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"
)

func TestErrorReason(t *testing.T) {
	// What the HTTP client returns wraps the cause in a *url.Error and,
	// for network failures, a *net.OpError.
	get := func(err error) error { return &url.Error{Op: "Get", URL: "http://example.org/", Err: err} }
	read := func(err error) error { return get(&net.OpError{Op: "read", Net: "tcp", Err: err}) }
	for _, tc := range []struct {
		name   string
		err    error
		reason string
		retry  bool
	}{
		{"client timeout", get(fmt.Errorf("awaiting headers: %w", context.DeadlineExceeded)), "timeout", true},
		{"read deadline", read(os.ErrDeadlineExceeded), "timeout", true},
		{"dns timeout", get(&net.DNSError{Err: "i/o timeout", Name: "example.org", IsTimeout: true}), "dns", true},
		{"no such host", get(&net.DNSError{Err: "no such host", Name: "example.org", IsNotFound: true}), "dns", false},
		{"refused", read(syscall.ECONNREFUSED), "connection", true},
		{"reset", read(syscall.ECONNRESET), "connection", true},
		{"cut short", get(io.ErrUnexpectedEOF), "connection", true},
		{"untrusted certificate", get(x509.UnknownAuthorityError{}), "tls", false},
		{"private address", get(&BlockedAddressError{Addr: netip.MustParseAddr("10.0.0.1"), Kind: "private"}), "private_address", false},
		{"robots.txt", colly.ErrRobotsTxtBlocked, "robots", false},
		{"anything else", errors.New("unsupported protocol scheme"), "fetch", false},
	} {
		reason, retry := errorReason(tc.err)
		if reason != tc.reason || retry != tc.retry {
			t.Errorf("%s: errorReason(%v) = %q, retry %v; want %q, retry %v", tc.name, tc.err, reason, retry, tc.reason, tc.retry)
		}
	}
}

// slowTimeout is the request timeout of TestCrawlTimeout. /slow never
// answers, so it times out whatever the machine's load; the only other
// request of those crawls, robots.txt, has this long to come back, alone.
const slowTimeout = 200 * time.Millisecond

// TestCrawlTimeout crawls /slow alone with a short request timeout: the
// page is given up after the timeout, counted as a timeout, tried again
// Retries times, and tried again in full by the next crawl (a failure has
// no validators).
func TestCrawlTimeout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		retries int // Options.Retries: negative means none
		want    int // retries counted
	}{
		{"no retries", -1, 0},
		{"one retry", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSite(t)
			o := Options{
				Seeds:          []string{s.url("/slow")},
				AllowedDomains: []string{"127.0.0.1"},
				NoSitemaps:     true,
				RequestTimeout: slowTimeout,
				Retries:        tc.retries,
				RetryBackoff:   20 * time.Millisecond,
			}
			loopbackOnly(t, &o)
			dir, sink := t.TempDir(), &memSink{}
			for run := 1; run <= 2; run++ {
				p := crawl(t, dir, sink, o)
				if want := map[string]int64{"timeout": 1}; !maps.Equal(p.Errors, want) {
					t.Errorf("crawl %d: errors %v, want %v", run, p.Errors, want)
				}
				if p.Retries != int64(tc.want) {
					t.Errorf("crawl %d: %d retries, want %d", run, p.Retries, tc.want)
				}
				if len(p.Skipped) != 0 || !p.Done {
					t.Errorf("crawl %d: skipped %v, done %v; want nothing skipped (robots.txt read in time), done", run, p.Skipped, p.Done)
				}
				if got, want := s.hitsOf("/slow"), run*(tc.want+1); got != want {
					t.Errorf("after crawl %d: /slow asked %d times, want %d", run, got, want)
				}
			}
			if sink.len() != 0 {
				t.Errorf("%d documents indexed from a page that never answered", sink.len())
			}
		})
	}
}
