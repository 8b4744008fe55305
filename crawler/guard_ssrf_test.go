package crawler

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cari-search/cari/extract"
	"github.com/cari-search/cari/internal/dnstest"
)

// TestCrawlNeverReachesPrivateAddresses crawls a site on loopback (allowed
// as a test network) whose pages link and redirect to cloud metadata,
// private and unique-local addresses, as IP literals and as names that a
// real DNS server resolves to them. The crawl must fetch none of them; the
// dial check of loopbackOnly fails the test if any connection to a
// non-loopback address is even attempted.
func TestCrawlNeverReachesPrivateAddresses(t *testing.T) {
	dns := dnstest.Start(t, map[string][]netip.Addr{
		"internal.test":   {netip.MustParseAddr("10.1.2.3")},
		"metadata.test":   {netip.MustParseAddr("169.254.169.254")},
		"v6metadata.test": {netip.MustParseAddr("fd00:ec2::254")},
		"ula.test":        {netip.MustParseAddr("fd12:3456::1")},
		"linklocal.test":  {netip.MustParseAddr("169.254.7.7")},
		// Public first, private second: the dialer tries both, and the
		// guard must refuse the second.
		"mixed.test": {netip.MustParseAddr("10.9.9.9"), netip.MustParseAddr("fe80::1")},
	})
	var port string
	targets := []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://[fd00:ec2::254]/latest/meta-data/",
		"http://10.0.0.1/admin",
		"http://[::1]:PORT/",
		"http://internal.test:PORT/",
		"http://metadata.test/latest/meta-data/",
		"http://v6metadata.test/",
		"http://ula.test:PORT/",
		"http://linklocal.test/",
		"http://mixed.test:PORT/",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
		case r.URL.Path == "/":
			var b strings.Builder
			b.WriteString("<html><title>Hub</title><body><main><p>Links to places a crawler must not go.</p>")
			for i, u := range targets {
				fmt.Fprintf(&b, `<a href="%s">direct %d</a> <a href="/redirect/%d">redirect %d</a>`, strings.ReplaceAll(u, "PORT", port), i, i, i)
			}
			b.WriteString("</main></body></html>")
			fmt.Fprint(w, b.String())
		case strings.HasPrefix(r.URL.Path, "/redirect/"):
			var i int
			fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/redirect/"), &i)
			http.Redirect(w, r, strings.ReplaceAll(targets[i], "PORT", port), http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	_, port, _ = net.SplitHostPort(srv.Listener.Addr().String())

	o := Options{
		Seeds:          []string{srv.URL + "/"},
		MaxDepth:       3,
		AllowedDomains: []string{"127.0.0.1", "::1", "169.254.169.254", "fd00:ec2::254", "10.0.0.1", "internal.test", "metadata.test", "v6metadata.test", "ula.test", "linklocal.test", "mixed.test"},
		RequestTimeout: 2 * time.Second,
		RetryBackoff:   10 * time.Millisecond,
		Resolver:       dns.Resolver(),
	}
	loopbackOnly(t, &o)
	sink := &memSink{}
	p := crawl(t, t.TempDir(), sink, o)
	t.Logf("progress: %+v", p)
	for _, u := range targets {
		u = strings.ReplaceAll(u, "PORT", port)
		if c, err := extract.Canonicalize(u); err == nil {
			if _, ok := sink.byURL(c); ok {
				t.Errorf("%s was fetched and indexed", u)
			}
		}
	}
	// A refusal is counted as a skip when the scope sees it before the
	// fetch, as an error when the dialer refuses it.
	if n := p.Skipped["private_address"] + p.Errors["private_address"]; n < int64(len(targets)) {
		t.Errorf("%d URLs refused as private_address, want at least %d (one per target): %v %v", n, len(targets), p.Skipped, p.Errors)
	}
	for _, name := range []string{"internal.test", "metadata.test", "v6metadata.test", "ula.test", "mixed.test"} {
		if !dns.Queried(name) {
			t.Errorf("%s was never resolved: the test did not exercise the name path", name)
		}
	}
}

// TestCheckSeedResolvesNames refuses a seed whose name resolves to a
// blocked address, before the crawl starts.
func TestCheckSeedResolvesNames(t *testing.T) {
	dns := dnstest.Start(t, map[string][]netip.Addr{
		"metadata.test": {netip.MustParseAddr("169.254.169.254")},
		"public.test":   {netip.MustParseAddr("93.184.215.14")},
	})
	var blocked *BlockedAddressError
	if err := CheckSeed(t.Context(), dns.Resolver(), "http://metadata.test/", nil); err == nil || !asBlocked(err, &blocked) || blocked.Kind != "cloud metadata" {
		t.Errorf("seed resolving to the metadata address: %v, want a cloud metadata *BlockedAddressError", err)
	}
	if err := CheckSeed(t.Context(), dns.Resolver(), "http://public.test/", nil); err != nil {
		t.Errorf("seed resolving to a public address: %v", err)
	}
}

func asBlocked(err error, target **BlockedAddressError) bool {
	b, ok := err.(*BlockedAddressError)
	if ok {
		*target = b
	}
	return ok
}

// TestCrawlSkipsHostileBodies crawls pages built to hurt a crawler: gzip
// bombs (sent gzip-encoded as asked, and gzip-compressed unasked under an
// .xml.gz path), a page nested 60,000 elements deep, and a page of NUL
// bytes and invalid UTF-8. The bombs are skipped as too large without
// being inflated past the size limit; the others are extracted or skipped
// with a reason, and the crawl ends.
func TestCrawlSkipsHostileBodies(t *testing.T) {
	const maxBody = 1 << 20
	var bomb bytes.Buffer
	// BestSpeed makes a bomb about as small (330 KiB) five times faster.
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestSpeed)
	zw.Write([]byte("<html><body><p>"))
	spaces := bytes.Repeat([]byte(" "), 1<<20)
	for range 256 { // 256 MiB inflated
		zw.Write(spaces)
	}
	zw.Close()
	deep := strings.Repeat("<div>", 60_000) + "<p>deep text at the bottom</p>" + strings.Repeat("</div>", 60_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
		case "/":
			fmt.Fprint(w, `<html><title>Hub</title><body><main><p>Hostile pages.</p>
				<a href="/bomb-encoded">a</a> <a href="/bomb.xml.gz">b</a> <a href="/deep">c</a> <a href="/binary">d</a></main></body></html>`)
		case "/bomb-encoded":
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		case "/bomb.xml.gz":
			w.Header().Set("Content-Type", "text/html")
			w.Write(bomb.Bytes())
		case "/deep":
			fmt.Fprint(w, deep)
		case "/binary":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><title>bin\x00ary</title><body><p>nul \x00\x00 and invalid \xff\xfe\xc3\x28 bytes</p></body></html>"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	o := Options{Seeds: []string{srv.URL + "/"}, MaxDepth: 2, MaxBodyBytes: maxBody, RequestTimeout: 30 * time.Second}
	loopbackOnly(t, &o)
	sink := &memSink{}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p := crawl(t, t.TempDir(), sink, o)
	runtime.ReadMemStats(&after)
	t.Logf("progress: %+v", p)
	if p.Skipped["too_large"] != 2 {
		t.Errorf("skipped as too_large: %d, want the 2 gzip bombs", p.Skipped["too_large"])
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 128<<20 {
		t.Errorf("the crawl allocated %d MiB: a 256 MiB gzip bomb was inflated past the %d MiB body limit", alloc>>20, maxBody>>20)
	}
	// The HTML parser refuses more than 512 open elements: the deep page
	// is an extraction error, counted, and the crawl goes on.
	if _, ok := sink.byURL(srv.URL + "/deep"); ok || p.Errors["extract"] != 1 {
		t.Errorf("deep page: indexed=%v, extract errors %d; want it refused by the parser", ok, p.Errors["extract"])
	}
	u, _ := url.Parse(srv.URL + "/deep")
	if _, err := extract.Decoded(u, "text/html", []byte(deep), nil); err == nil || !strings.Contains(err.Error(), "exceeds 512") {
		t.Errorf("extract.Decoded of the deep page: %v, want the parser's nesting limit", err)
	}
	d, ok := sink.byURL(srv.URL + "/binary")
	if !ok {
		t.Fatal("/binary was not indexed")
	}
	if strings.ContainsRune(d.Text, 0) || strings.ContainsRune(d.Title, 0) || !utf8.ValidString(d.Text) {
		t.Errorf("NUL bytes or invalid UTF-8 reached the document: %q %q", d.Title, d.Text)
	}
}
