package server

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cari-search/cari/internal/dnstest"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// TestCrawlRPCReachesNoPrivateAddress crawls, through the Crawl RPC, a hub
// on 127.0.0.1 (the server's allowed test network) that links and
// redirects to metadata, private, link-local and unique-local addresses,
// as literals and as names resolving to them, and to IPv6 loopback (not
// allowed), where a listener counts connections. None may be fetched.
func TestCrawlRPCReachesNoPrivateAddress(t *testing.T) {
	var v6port string
	var v6accepted atomic.Int32
	if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
		v6 := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		v6.Listener.Close()
		v6.Listener = l
		v6.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				v6accepted.Add(1)
			}
		}
		v6.Start()
		defer v6.Close()
		_, v6port, _ = net.SplitHostPort(l.Addr().String())
	}
	targets := []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://[fd00:ec2::254]/latest/meta-data/",
		"http://192.168.1.1/",
		"http://metadata.test/computeMetadata/v1/",
		"http://intranet.test/",
		"http://linklocal.test/",
	}
	if v6port != "" {
		targets = append(targets, "http://[::1]:"+v6port+"/", "http://v6loop.test:"+v6port+"/")
	}
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
		case r.URL.Path == "/":
			var b strings.Builder
			b.WriteString("<html><title>Hub</title><body><main><p>A hub of links to addresses a crawler must not reach.</p>")
			for i, u := range targets {
				fmt.Fprintf(&b, `<a href="%s">direct %d</a> <a href="/r/%d">redirect %d</a>`, u, i, i, i)
			}
			b.WriteString("</main></body></html>")
			fmt.Fprint(w, b.String())
		case strings.HasPrefix(r.URL.Path, "/r/"):
			var i int
			fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/r/"), &i)
			http.Redirect(w, r, targets[i], http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer hub.Close()
	dns := dnstest.Start(t, map[string][]netip.Addr{
		"metadata.test":  {netip.MustParseAddr("169.254.169.254")},
		"intranet.test":  {netip.MustParseAddr("10.20.30.40")},
		"linklocal.test": {netip.MustParseAddr("fe80::1")},
		"v6loop.test":    {netip.MustParseAddr("::1")},
	})
	ts := startServer(t, serverSetup{opts: func(o *Options) {
		o.Crawl = CrawlOptions{
			StateDir:         t.TempDir(),
			Contact:          "https://example.org/bot",
			MinHostDelay:     -1,
			DefaultHostDelay: -1,
			ProgressInterval: 20 * time.Millisecond,
			AllowedNetworks:  []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			Resolver:         dns.Resolver(),
		}
	}})
	msgs, err := runCrawl(t, ts.index(), &cariv1.CrawlRequest{
		Seeds:          []string{hub.URL + "/"},
		AllowedDomains: []string{"127.0.0.1", "169.254.169.254", "fd00:ec2::254", "192.168.1.1", "::1", "metadata.test", "intranet.test", "linklocal.test", "v6loop.test"},
	})
	if err != nil {
		t.Fatalf("Crawl: %v", err)
	}
	last := msgs[len(msgs)-1]
	t.Logf("last progress: %v", last)
	// Every fetch was the hub's: the page and its redirects.
	if last.GetFetched() != int64(1+len(targets)) || last.GetIndexed() != 1 || last.GetSkipped()["redirect"] != int64(len(targets)) {
		t.Errorf("fetched %d, indexed %d, redirects %d: want only the hub's page and its %d redirects",
			last.GetFetched(), last.GetIndexed(), last.GetSkipped()["redirect"], len(targets))
	}
	if n := last.GetSkipped()["private_address"] + last.GetErrors()["private_address"]; n < int64(len(targets)) {
		t.Errorf("%d refused as private_address, want at least %d", n, len(targets))
	}
	if n := v6accepted.Load(); n != 0 {
		t.Errorf("the IPv6 loopback server accepted %d connections from the crawler", n)
	}
}
