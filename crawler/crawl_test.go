package crawler

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cari-search/cari/internal/texttest"
)

// siteOptions crawls the test site with short backoffs and a request
// timeout no page of it comes near, however loaded the machine: /slow,
// which never answers, is left out (TestCrawlTimeout has it), so that a
// timeout means something here and is never a page that waited for a CPU.
func siteOptions(t *testing.T, s *testSite) Options {
	o := Options{
		Seeds:          []string{s.url("/")},
		MaxDepth:       siteMaxDepth,
		AllowedDomains: []string{"127.0.0.1", "10.0.0.1", "169.254.169.254", "::1"},
		Exclude:        []string{`/excluded/`, "^" + regexp.QuoteMeta(s.url("/slow")) + "$"},
		RequestTimeout: 10 * time.Second,
		RetryBackoff:   20 * time.Millisecond,
		MaxBodyBytes:   siteMaxBody,
		Concurrency:    4,
	}
	loopbackOnly(t, &o)
	return o
}

// quickSiteOptions is siteOptions for a test that does not check the
// Crawl-delay: under -short the crawl leaves out the delayed host, whose
// Crawl-delay makes a crawl wait most of a second.
func quickSiteOptions(t *testing.T, s *testSite) Options {
	o := siteOptions(t, s)
	if testing.Short() {
		o.Exclude = append(o.Exclude, "^"+regexp.QuoteMeta(s.delay.URL+"/"))
	}
	return o
}

func TestCrawlTestSite(t *testing.T) {
	s := newTestSite(t)
	sink := &memSink{}
	dir := t.TempDir()
	o := siteOptions(t, s)
	var allowed schedule
	o.scheduled = allowed.record
	p := crawl(t, dir, sink, o)
	t.Logf("progress: %+v", p)

	indexed := []string{"/", "/orphan", "/article/final", "/flaky", "/latin1", "/cp1252-meta", "/sjis", "/koi8",
		"/tracking?id=3", "/canon-target", "/from-noindex", "/text.txt", "/deep/1", "/deep/4"}
	for i := 1; i <= siteArticles; i++ {
		indexed = append(indexed, "/article/"+string(rune('0'+i)))
	}
	for _, u := range indexed {
		if _, ok := sink.byURL(s.url(u)); !ok {
			t.Errorf("%s not indexed", u)
		}
	}
	if _, ok := sink.byURL(s.url("/nofollow-meta")); !ok {
		t.Error("/nofollow-meta not indexed: nofollow keeps its links out, not the page")
	}
	notIndexed := []string{"/private/secret", "/redirect/chain1", "/redirect/loop-a", "/missing", "/broken", "/slow",
		"/huge", "/huge-chunked", "/canon-alias", "/noindex", "/image.png", "/empty", "/deep/5", "/excluded/page"}
	for _, u := range notIndexed {
		if _, ok := sink.byURL(s.url(u)); ok {
			t.Errorf("%s indexed, want it left out", u)
		}
	}
	for _, u := range []string{s.delay.URL + "/", s.delay.URL + "/d/1", s.delay.URL + "/d/3"} {
		if _, ok := sink.byURL(u); !ok {
			t.Errorf("%s (second host) not indexed", u)
		}
	}

	// Requests the server saw: never for disallowed, nofollow, excluded
	// (/excluded/page, /slow) or too deep URLs; once for each canonical
	// URL; again only after a 5xx: /broken three times (Retries is 2 by
	// default), /flaky twice (it answers 503 once).
	wantHits := map[string]int{
		"/robots.txt": 1, "/private/secret": 0, "/never-1": 0, siteNoFollowLink: 0, "/excluded/page": 0, "/deep/5": 0,
		"/": 1, "/article/1": 1, "/redirect/chain1": 1, "/redirect/chain2": 1, "/redirect/chain3": 1, "/article/final": 1,
		"/redirect/loop-a": 1, "/redirect/loop-b": 1, "/missing": 1, "/broken": 3, "/flaky": 2, "/slow": 0,
		"/tracking?id=3": 1, "/tracking?utm_source=news&id=3": 0, "/canon-alias": 1, "/canon-target": 1,
		"/redirect/long/6": 1, "/redirect/long/7": 0,
	}
	for path, want := range wantHits {
		if got := s.hitsOf(path); got != want {
			t.Errorf("server saw %d requests for %s, want %d", got, path, want)
		}
	}

	wantSkipped := map[string]int64{
		"robots": 1, "redirect": 3 + 2 + 5 + 1, "not_html": 1, "too_large": 2, "duplicate": 1, "near_duplicate": 1,
		"canonical": 1, "noindex": 1, "private_address": 4, "pattern": 2, "depth": 1,
	}
	for reason, want := range wantSkipped {
		if got := p.Skipped[reason]; got != want {
			t.Errorf("skipped[%s] = %d, want %d", reason, got, want)
		}
	}
	// One URL per reason: /missing (404), /broken (500 to the last
	// retry), /redirect/long/1 (a sixth redirect), /empty (no text). No
	// timeout: no page of this crawl comes near its timeout, and no other
	// reason either.
	wantErrors := map[string]int64{"http_4xx": 1, "http_5xx": 1, "too_many_redirects": 1, "extract": 1}
	if !maps.Equal(p.Errors, wantErrors) {
		t.Errorf("errors = %v, want %v", p.Errors, wantErrors)
	}
	// /broken's two retries and /flaky's one.
	if p.Retries != 2+1 {
		t.Errorf("retries = %d, want 3 (broken 2, flaky 1)", p.Retries)
	}
	if !p.Done || p.StopReason != StopFrontierEmpty {
		t.Errorf("done %v, stop %q; want done, frontier_empty", p.Done, p.StopReason)
	}
	if int(p.Indexed) != sink.len() {
		t.Errorf("progress says %d indexed, the sink holds %d", p.Indexed, sink.len())
	}

	t.Run("content", func(t *testing.T) { checkContent(t, s, sink) })
	t.Run("crawl-delay", func(t *testing.T) { checkCrawlDelay(t, s, allowed.of(s.delay.URL)) })
}

func checkContent(t *testing.T, s *testSite, sink *memSink) {
	for u, want := range map[string]string{
		"/latin1":      "Die Größe des Cafés ist überraschend",
		"/cp1252-meta": "He said \u201cquoted\u201d \u2014 naïve",
		"/sjis":        "日本語のテキストです",
		"/koi8":        "Привет мир",
	} {
		d, _ := sink.byURL(s.url(u))
		if !strings.Contains(d.Text, want) {
			t.Errorf("%s: text %.80q does not contain %q", u, d.Text, want)
		}
	}
	d, _ := sink.byURL(s.url("/article/2"))
	if d.Title != "Article 2" || d.Author != "Ada Writer" || d.Language != "en" {
		t.Errorf("article 2: title %q author %q language %q", d.Title, d.Author, d.Language)
	}
	if want := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC); !d.Published.Equal(want) {
		t.Errorf("article 2 published %v, want %v", d.Published, want)
	}
	if strings.Contains(d.Text, "Site navigation menu") || strings.Contains(d.Text, "Copyright footer") {
		t.Errorf("article 2 text keeps navigation or footer: %q", d.Text)
	}
	if !strings.Contains(d.Text, texttest.Words(102, 150)[:60]) {
		t.Errorf("article 2 text lost its body: %.200q", d.Text)
	}
	if d.ID == "" || d.ContentHash == "" || d.Crawled.IsZero() {
		t.Errorf("article 2: id %q hash %q crawled %v", d.ID, d.ContentHash, d.Crawled)
	}
	txt, _ := sink.byURL(s.url("/text.txt"))
	if txt.Title != "Plain text title line" {
		t.Errorf("text.txt title %q", txt.Title)
	}
}

// schedule collects the request starts a crawl's frontier allowed, by host.
type schedule struct {
	mu     sync.Mutex
	starts map[string][]time.Time
}

func (s *schedule) record(host string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.starts == nil {
		s.starts = make(map[string][]time.Time)
	}
	s.starts[host] = append(s.starts[host], at)
}

func (s *schedule) of(host string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starts[host]
}

// checkCrawlDelay checks that the crawler allowed the second host's
// requests to start at least its Crawl-delay apart, and that the requests
// the host saw followed that schedule: each arrived after the crawler
// allowed it and before it allowed the next. The gaps between arrivals
// prove nothing under load (a request allowed on time can wait for a CPU
// and arrive just before the next), the order of arrivals and decisions
// does: one request at a time, the next one is allowed only after the
// answer to the last came back.
func checkCrawlDelay(t *testing.T, s *testSite, allowed []time.Time) {
	s.mu.Lock()
	arrived := append([]time.Time(nil), s.times[strings.TrimPrefix(s.delay.URL, "http://")]...)
	s.mu.Unlock()
	// robots.txt, sitemap.xml (absent), the home page and its pages.
	if len(arrived) != 3+siteDelayPages || len(allowed) != len(arrived) {
		t.Fatalf("delayed host got %d requests, the crawler allowed %d; want %d", len(arrived), len(allowed), 3+siteDelayPages)
	}
	for i := range allowed {
		if i > 0 {
			if gap := allowed[i].Sub(allowed[i-1]); gap < siteCrawlDelay {
				t.Errorf("requests %d and %d to the delayed host allowed %v apart, want at least %v", i-1, i, gap, siteCrawlDelay)
			}
		}
		if arrived[i].Before(allowed[i]) {
			t.Errorf("request %d to the delayed host arrived %v before the crawler allowed it", i, allowed[i].Sub(arrived[i]))
		}
		if i+1 < len(allowed) && arrived[i].After(allowed[i+1]) {
			t.Errorf("request %d to the delayed host arrived after request %d was allowed: two at once", i, i+1)
		}
	}
}

// paths returns the sink's URLs with the site's hosts replaced by roles.
// Which of two duplicates is indexed depends on which is fetched first, so
// both are named by the first.
func paths(s *testSite, sink *memSink) map[string]bool {
	sink.mu.Lock()
	defer sink.mu.Unlock()
	out := make(map[string]bool)
	for u := range sink.docs {
		u = strings.Replace(strings.Replace(u, s.srv.URL, "main", 1), s.delay.URL, "delayed", 1)
		u = strings.NewReplacer("/dup-b", "/dup-a", "/near-b", "/near-a").Replace(u)
		out[u] = true
	}
	return out
}

func TestCrawlResumesAfterInterruption(t *testing.T) {
	whole := newTestSite(t)
	wholeSink := &memSink{}
	crawl(t, t.TempDir(), wholeSink, quickSiteOptions(t, whole))

	s := newTestSite(t)
	sink := &memSink{}
	dir := t.TempDir()
	o := quickSiteOptions(t, s)
	st, err := OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(st, sink, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	const stopAfter = 25
	s.setOnHit(func(total int) {
		if total == stopAfter {
			cancel()
		}
	})
	p1, err := c.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted crawl returned %v, want context.Canceled", err)
	}
	st.Close()
	if p1.Done {
		t.Fatal("interrupted crawl says it is done")
	}
	s.setOnHit(nil)
	p2 := crawl(t, dir, sink, o)
	if !p2.Resumed || !p2.Done || p2.CrawlID != p1.CrawlID {
		t.Errorf("second run: resumed %v done %v id %q (first %q); want the same crawl resumed to its end", p2.Resumed, p2.Done, p2.CrawlID, p1.CrawlID)
	}
	t.Logf("first run fetched %d, indexed %d; after resuming fetched %d, indexed %d", p1.Fetched, p1.Indexed, p2.Fetched, p2.Indexed)

	got, want := paths(s, sink), paths(whole, wholeSink)
	for u := range want {
		if !got[u] {
			t.Errorf("%s indexed by the uninterrupted crawl, not by the resumed one", u)
		}
	}
	for u := range got {
		if !want[u] {
			t.Errorf("%s indexed by the resumed crawl only", u)
		}
	}
	// Only the requests in flight when the crawl stopped may be repeated:
	// at most one per worker, plus each host's robots.txt and sitemap.
	extra := 0
	wholeHits := whole.allHits()
	for k, n := range s.allHits() {
		if n > wholeHits[k] {
			t.Logf("fetched again after resuming: %s (%d times, %d uninterrupted)", k, n, wholeHits[k])
			extra += n - wholeHits[k]
		}
	}
	if limit := o.Concurrency + 4; extra > limit {
		t.Errorf("%d requests repeated after resuming, want at most %d", extra, limit)
	}
	if p2.Indexed != int64(len(want)) {
		t.Errorf("resumed crawl counts %d indexed, want %d", p2.Indexed, len(want))
	}
}

func TestRecrawlUsesConditionalGET(t *testing.T) {
	s := newTestSite(t)
	dir := t.TempDir()
	// /broken is asked once and retried twice (the default Retries).
	o, attempts := quickSiteOptions(t, s), 3
	first := &memSink{}
	p1 := crawl(t, dir, first, o)
	second := &memSink{}
	p2 := crawl(t, dir, second, o)
	if p2.CrawlID == p1.CrawlID || p2.Resumed {
		t.Errorf("a crawl that ended was resumed (id %q, resumed %v), want a new one", p2.CrawlID, p2.Resumed)
	}
	// Every HTML page of the main host answers 304; the pages only its
	// links lead to are still reached (their links were remembered).
	if n := p2.Skipped["not_modified"]; n < 20 {
		t.Errorf("second crawl: %d not_modified, want at least 20 (%+v)", n, p2.Skipped)
	}
	if s.hitsOf("/deep/4") != 2 || s.hitsOf("/article/final") != 2 {
		t.Errorf("second crawl did not reach the deep or redirected pages: hits %d and %d, want 2 and 2",
			s.hitsOf("/deep/4"), s.hitsOf("/article/final"))
	}
	if second.len() != 0 {
		t.Errorf("second crawl indexed %d unchanged documents again", second.len())
	}
	// Failures have no validators: they are tried again in full
	// (TestCrawlTimeout checks the same of a timeout).
	if !p2.Done || p2.Errors["http_5xx"] != 1 || s.hitsOf("/broken") != 2*attempts {
		t.Errorf("second crawl: done %v, errors %v, /broken asked %d times; want done, the 5xx again, %d",
			p2.Done, p2.Errors, s.hitsOf("/broken"), 2*attempts)
	}
}
