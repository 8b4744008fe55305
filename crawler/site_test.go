package crawler

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"

	"github.com/cari-search/cari/internal/texttest"
)

// testSite is a small web site with the cases a crawler gets wrong: robots
// rules, a sitemap-only page, redirect chains and loops, errors, a page
// that never answers, huge pages, legacy charsets, duplicates, canonical links, noindex and
// nofollow, tracking parameters and links to private addresses. It counts
// the requests for every path.
type testSite struct {
	srv   *httptest.Server
	delay *httptest.Server // a second host with a Crawl-delay
	mu    sync.Mutex
	hits  map[string]int // by path and query
	times map[string][]time.Time
	flaky int
	total int
	// closing is closed before the servers close, to end requests for
	// /slow that a client still waits on: httptest's Close waits for them.
	closing chan struct{}
	// onHit, when set, is called with the number of requests so far.
	onHit func(total int)
	// modified is the Last-Modified of every page; pages answer
	// conditional requests.
	modified time.Time
}

const (
	siteArticles   = 6
	siteDelayPages = 3
	siteCrawlDelay = 200 * time.Millisecond
	siteDeepest    = 6
	siteMaxDepth   = 4
	siteHugeBytes  = 3 << 20
	siteMaxBody    = 1 << 20
)

func newTestSite(t testing.TB) *testSite {
	s := &testSite{hits: make(map[string]int), times: make(map[string][]time.Time), closing: make(chan struct{}),
		modified: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s.delay = httptest.NewServer(http.HandlerFunc(s.serveDelayed))
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	t.Cleanup(s.delay.Close)
	t.Cleanup(func() { close(s.closing) }) // cleanups run last first
	return s
}

func (s *testSite) url(p string) string { return s.srv.URL + p }

func (s *testSite) count(r *http.Request) {
	s.mu.Lock()
	k := r.Host + r.URL.RequestURI()
	s.hits[k]++
	s.times[r.Host] = append(s.times[r.Host], time.Now())
	s.total++
	total, hook := s.total, s.onHit
	s.mu.Unlock()
	if hook != nil {
		hook(total)
	}
}

// setOnHit sets the hook under the lock the handlers read it with.
func (s *testSite) setOnHit(h func(total int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onHit = h
}

// allHits returns the request counts by path on both hosts, the host's
// port replaced by its role, so that two sites compare.
func (s *testSite) allHits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int)
	main, delayed := strings.TrimPrefix(s.srv.URL, "http://"), strings.TrimPrefix(s.delay.URL, "http://")
	for k, n := range s.hits {
		k = strings.Replace(strings.Replace(k, main, "main", 1), delayed, "delayed", 1)
		out[k] = n
	}
	return out
}

// hitsOf returns how often a path (with query) on the main host was asked for.
func (s *testSite) hitsOf(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[strings.TrimPrefix(s.srv.URL, "http://")+p]
}

// page is a page with site furniture around its <main>.
func page(title, head, main string, links ...string) string {
	var nav strings.Builder
	for _, l := range links {
		nav.WriteString(`<li><a href="` + l + `">` + l + `</a></li>`)
	}
	return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>` + title + `</title>` + head + `</head>
<body><nav><ul><li>Home</li><li>Site navigation menu</li></ul></nav>
<main><h1>` + title + `</h1>` + main + `<ul>` + nav.String() + `</ul></main>
<footer>Copyright footer boilerplate text</footer></body></html>`
}

func para(seed uint64, n int) string { return "<p>" + texttest.Words(seed, n) + "</p>" }

func (s *testSite) serveDelayed(w http.ResponseWriter, r *http.Request) {
	s.count(r)
	switch r.URL.Path {
	case "/robots.txt":
		fmt.Fprintf(w, "User-agent: *\nCrawl-delay: %.1f\n", siteCrawlDelay.Seconds())
	case "/":
		var links []string
		for i := 1; i <= siteDelayPages; i++ {
			links = append(links, fmt.Sprintf("/d/%d", i))
		}
		fmt.Fprint(w, page("Delayed host", "", para(900, 80), links...))
	default:
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/d/%d", &n); err != nil {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, page(fmt.Sprintf("Delayed page %d", n), "", para(uint64(900+n), 80)))
	}
}

func (s *testSite) serve(w http.ResponseWriter, r *http.Request) {
	s.count(r)
	p := r.URL.Path
	html := func(body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("ETag", fmt.Sprintf(`"%x"`, len(body)))
		http.ServeContent(w, r, "", s.modified, strings.NewReader(body))
	}
	switch {
	case p == "/robots.txt":
		fmt.Fprintf(w, "User-agent: *\nDisallow: /\n\nUser-agent: Cari\nDisallow: /private/\nAllow: /\n\nSitemap: %s/sitemap.xml\n", s.srv.URL)
	case p == "/sitemap.xml":
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>%s/orphan</loc></url><url><loc>http://elsewhere.invalid/x</loc></url></urlset>`, s.srv.URL)
	case p == "/":
		html(page("Test site", "", para(1, 60)+`<p><a rel="nofollow" href="`+siteNoFollowLink+`">not this</a></p>`, s.indexLinks()...))
	case strings.HasPrefix(p, "/article/"):
		var n int
		fmt.Sscanf(p, "/article/%d", &n)
		html(page(fmt.Sprintf("Article %d", n), `<meta name="author" content="Ada Writer"><meta property="article:published_time" content="2025-03-04T05:06:07Z">`,
			para(uint64(100+n), 150)+para(uint64(200+n), 150)))
	case p == "/orphan":
		html(page("Orphan reachable from the sitemap only", "", para(3, 120)))
	case p == "/private/secret":
		html(page("Secret", "", para(4, 100)))
	case p == "/redirect/chain1":
		http.Redirect(w, r, "/redirect/chain2", http.StatusMovedPermanently)
	case p == "/redirect/chain2":
		http.Redirect(w, r, s.url("/redirect/chain3"), http.StatusFound)
	case p == "/redirect/chain3":
		http.Redirect(w, r, "../article/final", http.StatusTemporaryRedirect)
	case p == "/redirect/metadata":
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam", http.StatusFound)
	case p == "/redirect/loop-a":
		http.Redirect(w, r, "/redirect/loop-b", http.StatusFound)
	case p == "/redirect/loop-b":
		http.Redirect(w, r, "/redirect/loop-a", http.StatusFound)
	case strings.HasPrefix(p, "/redirect/long/"):
		var n int
		fmt.Sscanf(p, "/redirect/long/%d", &n)
		http.Redirect(w, r, fmt.Sprintf("/redirect/long/%d", n+1), http.StatusFound)
	case p == "/missing":
		http.NotFound(w, r)
	case p == "/broken":
		http.Error(w, "boom", http.StatusInternalServerError)
	case p == "/flaky":
		s.mu.Lock()
		s.flaky++
		first := s.flaky == 1
		s.mu.Unlock()
		if first {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		html(page("Flaky but there", "", para(5, 120)))
	case p == "/slow":
		// Never answers: whatever the request timeout and the machine's
		// load, the client gives up first, and it costs the crawl no more
		// than that timeout.
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
	case p == "/huge":
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", fmt.Sprint(siteHugeBytes))
		w.Write(bytes.Repeat([]byte("<p>huge</p>"), siteHugeBytes/11+1)[:siteHugeBytes])
	case p == "/huge-chunked":
		w.Header().Set("Content-Type", "text/html")
		for range siteHugeBytes / 4096 {
			if _, err := w.Write(bytes.Repeat([]byte("x"), 4096)); err != nil {
				return
			}
		}
	case p == "/latin1":
		w.Header().Set("Content-Type", "text/html; charset=ISO-8859-1")
		b, _ := charmap.ISO8859_1.NewEncoder().String(page("Latin-1 Größe", "", "<p>Die Größe des Cafés ist überraschend. "+texttest.Words(7, 80)+"</p>"))
		fmt.Fprint(w, b)
	case p == "/cp1252-meta":
		w.Header().Set("Content-Type", "text/html")
		b, _ := charmap.Windows1252.NewEncoder().String(strings.Replace(page("Windows-1252", "", "<p>He said \u201cquoted\u201d \u2014 naïve. "+texttest.Words(8, 80)+"</p>"), `<meta charset="utf-8">`, `<meta charset="windows-1252">`, 1))
		fmt.Fprint(w, b)
	case p == "/sjis":
		w.Header().Set("Content-Type", "text/html")
		b, _ := japanese.ShiftJIS.NewEncoder().String(strings.Replace(page("Shift JIS", "", "<p>日本語のテキストです。"+texttest.Words(9, 80)+"</p>"), `<meta charset="utf-8">`, `<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">`, 1))
		fmt.Fprint(w, b)
	case p == "/koi8":
		w.Header().Set("Content-Type", "text/html")
		ru := strings.Repeat("Привет мир, это русский текст без объявленной кодировки. Москва и Петербург. ", 20)
		b, _ := charmap.KOI8R.NewEncoder().String(strings.Replace(page("KOI8", "", "<p>"+ru+"</p>"), `<meta charset="utf-8">`, "", 1))
		fmt.Fprint(w, b)
	case p == "/dup-a", p == "/dup-b":
		html(page("Duplicate", "", para(10, 200)))
	case p == "/near-a":
		html(page("Near duplicate", "", para(11, 400)))
	case p == "/near-b":
		html(page("Near duplicate", "", "<p>"+strings.Replace(texttest.Words(11, 400), "river", "brook", 2)+"</p>"))
	case p == "/tracking":
		html(page("Tracked "+r.URL.Query().Get("id"), "", para(12, 100)))
	case p == "/canon-alias":
		html(page("Alias", `<link rel="canonical" href="/canon-target">`, para(13, 100)))
	case p == "/canon-target":
		html(page("Canonical target", "", para(14, 100)))
	case p == "/noindex":
		html(page("Not for the index", `<meta name="robots" content="noindex">`, para(15, 100), "/from-noindex"))
	case p == "/from-noindex":
		html(page("Linked from a noindex page", "", para(16, 100)))
	case p == "/nofollow-meta":
		html(page("Links not to follow", `<meta name="robots" content="nofollow">`, para(17, 100), "/never-1"))
	case p == "/text.txt":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "Plain text title line\n\n"+texttest.Words(18, 100))
	case p == "/image.png":
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n"))
	case p == "/empty":
		html("<html><head></head><body></body></html>")
	case strings.HasPrefix(p, "/deep/"):
		var n int
		fmt.Sscanf(p, "/deep/%d", &n)
		var links []string
		if n < siteDeepest {
			links = append(links, fmt.Sprintf("/deep/%d", n+1))
		}
		html(page(fmt.Sprintf("Deep %d", n), "", para(uint64(300+n), 100), links...))
	case p == "/excluded/page":
		html(page("Excluded", "", para(19, 100)))
	default:
		http.NotFound(w, r)
	}
}

func (s *testSite) indexLinks() []string {
	links := []string{
		"/private/secret", "/redirect/chain1", "/redirect/loop-a", "/redirect/metadata", "/redirect/long/1",
		"/missing", "/broken", "/flaky", "/slow", "/huge", "/huge-chunked",
		"/latin1", "/cp1252-meta", "/sjis", "/koi8", "/dup-a", "/dup-b", "/near-a", "/near-b",
		"/tracking?utm_source=news&id=3", "/tracking?id=3&fbclid=abc#top", "/canon-alias",
		"/noindex", "/nofollow-meta", "/text.txt", "/image.png", "/empty", "/deep/1", "/excluded/page",
		"HTTP://127.0.0.1:" + s.srv.URL[strings.LastIndex(s.srv.URL, ":")+1:] + "/article/1#frag",
		"http://10.0.0.1/intranet", "http://169.254.169.254/latest/meta-data/", "http://[::1]/x",
		"mailto:someone@example.org", "javascript:void(0)",
		s.delay.URL + "/",
	}
	for i := 1; i <= siteArticles; i++ {
		links = append(links, fmt.Sprintf("/article/%d", i))
	}
	return links
}

// siteNoFollowLink is the rel="nofollow" link on the home page.
const siteNoFollowLink = "/never-2"
