package crawler

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cari-search/cari/internal/redistest"
)

// versionedSite is a chain of n pages, each with an ETag (its version) and
// a Last-Modified, that answers conditional requests with 304 and counts,
// by path, the requests and those that carried If-None-Match and
// If-Modified-Since.
type versionedSite struct {
	srv *httptest.Server
	mu  sync.Mutex
	// etag and text are each page's version and the seed of its text.
	etag, text            map[int]int
	hits, ifNone, ifSince map[string]int
}

var siteModified = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func newVersionedSite(t *testing.T, n int) *versionedSite {
	s := &versionedSite{etag: map[int]int{}, text: map[int]int{}, hits: map[string]int{}, ifNone: map[string]int{}, ifSince: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		p := r.URL.Path
		s.hits[p]++
		if r.Header.Get("If-None-Match") != "" {
			s.ifNone[p]++
		}
		if r.Header.Get("If-Modified-Since") != "" {
			s.ifSince[p]++
		}
		var i int
		if !sscan(p, "/p/%d", &i) || i >= n {
			http.NotFound(w, r)
			return
		}
		var links []string
		for j := i + 1; j <= i+2 && j < n; j++ {
			links = append(links, fmt.Sprintf("/p/%d", j))
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("ETag", fmt.Sprintf(`"%d-%d"`, i, s.etag[i]))
		body := page(fmt.Sprintf("Page %d", i), "", para(uint64(500+10*i+s.text[i]), 120), links...)
		http.ServeContent(w, r, "", siteModified, strings.NewReader(body))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// counts returns a copy of the request counts of path p: all, with
// If-None-Match, with If-Modified-Since.
func (s *versionedSite) counts(p string) (hits, ifNone, ifSince int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[p], s.ifNone[p], s.ifSince[p]
}

// options crawl the site from its first page.
func (s *versionedSite) options(t *testing.T) Options {
	o := Options{Seeds: []string{s.srv.URL + "/p/0"}, MaxDepth: 100, Concurrency: 4}
	loopbackOnly(t, &o)
	return o
}

// change gives page i a new ETag, and with text a new text.
func (s *versionedSite) change(i int, text bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.etag[i]++
	if text {
		s.text[i]++
	}
}

func jobStatus(t *testing.T, url, job string) JobStatus {
	t.Helper()
	f, err := OpenShared(url, job)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSharedRecrawlAsksConditionally crawls a job with two workers, then
// changes two pages (one's text, one's ETag only) and starts two workers
// again: the job's second pass asks every page once more, each with
// If-None-Match and If-Modified-Since from the first fetch (whichever
// worker made it); the 304s and the page whose text did not change leave
// the index untouched, and only the changed page is indexed again.
func TestSharedRecrawlAsksConditionally(t *testing.T) {
	rd := redistest.Start(t, false)
	const n = 12
	s := newVersionedSite(t, n)
	o := s.options(t)
	first := &memSink{}
	runWorkers(t, t.Context(), sharedWorker(t, rd.URL(0), "again", first, o, SharedOptions{}), sharedWorker(t, rd.URL(0), "again", first, o, SharedOptions{}))
	if first.len() != n {
		t.Fatalf("first pass indexed %d pages, want %d", first.len(), n)
	}
	s.change(3, true)
	s.change(5, false)
	joiner := o
	joiner.Seeds = nil
	second := &memSink{}
	ps := runWorkers(t, t.Context(), sharedWorker(t, rd.URL(0), "again", second, joiner, SharedOptions{}), sharedWorker(t, rd.URL(0), "again", second, joiner, SharedOptions{}))
	for i := range n {
		p := fmt.Sprintf("/p/%d", i)
		if hits, ifNone, ifSince := s.counts(p); hits != 2 || ifNone != 1 || ifSince != 1 {
			t.Errorf("%s: %d requests, %d with If-None-Match, %d with If-Modified-Since; want 2, 1, 1", p, hits, ifNone, ifSince)
		}
	}
	if hits, _, _ := s.counts("/robots.txt"); hits != 2 {
		t.Errorf("robots.txt asked %d times, want once a pass", hits)
	}
	if _, ok := second.byURL(s.srv.URL + "/p/3"); !ok || second.len() != 1 {
		t.Errorf("second pass indexed %d pages (/p/3: %v), want only the changed /p/3", second.len(), ok)
	}
	st := jobStatus(t, rd.URL(0), "again")
	if st.Pass != 2 || !st.Done || st.Fetched != n || st.Indexed != 1 || st.Skipped["not_modified"] != n-2 || st.Skipped["unchanged"] != 1 {
		t.Errorf("status %+v; want pass 2 done, %d fetched, 1 indexed, %d not_modified, 1 unchanged", st, n, n-2)
	}
	if ps[0].FetchedThisRun+ps[1].FetchedThisRun != n {
		t.Errorf("the workers fetched %d and %d pages, want %d together", ps[0].FetchedThisRun, ps[1].FetchedThisRun, n)
	}
}

// TestSharedRecrawlWaitsUntilDue gives a job a recrawl interval of an
// hour: a worker started after its first pass fetches nothing, and one
// started once a page is due (its due time moved back by hand) asks that
// page alone, conditionally.
func TestSharedRecrawlWaitsUntilDue(t *testing.T) {
	rd := redistest.Start(t, false)
	const n = 6
	s := newVersionedSite(t, n)
	o := s.options(t)
	sink := &memSink{}
	so := SharedOptions{RecrawlAfter: time.Hour}
	runWorkers(t, t.Context(), sharedWorker(t, rd.URL(0), "hourly", sink, o, so))
	f, _ := OpenShared(rd.URL(0), "hourly")
	defer f.Close()
	if _, err := NewShared(t.Context(), f, sink, o, SharedOptions{RecrawlAfter: -time.Second}); err == nil || !strings.Contains(err.Error(), "recrawl_after: must be 0") {
		t.Errorf("a negative recrawl interval: %v, want it refused", err)
	}
	// A later worker's interval does not change the job's.
	w := sharedWorker(t, rd.URL(0), "hourly", sink, o, SharedOptions{})
	if p := runWorkers(t, t.Context(), w)[0]; p.FetchedThisRun != 0 || !p.Done {
		t.Errorf("worker started before any page is due: %+v, want done with nothing fetched", p)
	}
	if st := jobStatus(t, rd.URL(0), "hourly"); st.Pass != 1 || st.RecrawlScheduled != n || st.RecrawlDue != 0 {
		t.Errorf("status %+v; want pass 1, %d pages scheduled, none due", st, n)
	}
	members, err := f.rdb.ZRange(t.Context(), f.key("due"), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	var due string
	for _, m := range members {
		if strings.Contains(m, "/p/4\"") {
			due = m
		}
	}
	if err := f.rdb.ZAddXX(t.Context(), f.key("due"), redis.Z{Score: 1, Member: due}).Err(); due == "" || err != nil {
		t.Fatalf("make /p/4 due: %q, %v", due, err)
	}
	if st := jobStatus(t, rd.URL(0), "hourly"); st.RecrawlDue != 1 {
		t.Errorf("status %+v; want 1 page due", st)
	}
	if p := runWorkers(t, t.Context(), sharedWorker(t, rd.URL(0), "hourly", sink, o, SharedOptions{}))[0]; p.FetchedThisRun != 1 {
		t.Errorf("worker started with /p/4 due: %+v, want it alone fetched", p)
	}
	for i := range n {
		p := fmt.Sprintf("/p/%d", i)
		hits, ifNone, _ := s.counts(p)
		if want := 1 + boolInt(i == 4); hits != want || ifNone != want-1 {
			t.Errorf("%s: %d requests, %d conditional; want %d, %d", p, hits, ifNone, want, want-1)
		}
	}
	if st := jobStatus(t, rd.URL(0), "hourly"); st.Pass != 2 || st.Skipped["not_modified"] != 1 || st.RecrawlScheduled != n || st.RecrawlDue != 0 {
		t.Errorf("status %+v; want pass 2 with 1 not_modified, %d scheduled again, none due", st, n)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSharedRecrawlPythonDocs crawls the Python documentation with two
// workers, then runs the job's second pass with two more: every page
// fetched in the first pass is asked once more, conditionally (the docs
// are served with Last-Modified), answers 304, and nothing is indexed
// again. It logs the job's Redis memory per page.
func TestSharedRecrawlPythonDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the 530 pages of the Python documentation twice; skipped with -short")
	}
	rd := redistest.Start(t, false)
	srv := servePythonDocs(t)
	o := Options{Seeds: []string{srv.URL + "/index.html"}}
	loopbackOnly(t, &o)
	first := &memSink{}
	runWorkers(t, t.Context(), sharedWorker(t, rd.URL(0), "py", first, o, SharedOptions{}), sharedWorker(t, rd.URL(0), "py", first, o, SharedOptions{}))
	st1 := jobStatus(t, rd.URL(0), "py")
	mem, records := jobMemory(t, rd.URL(0), "py")
	t.Logf("pass 1: %d fetched, %d indexed; the job holds %d bytes in Redis, %d per page fetched (%d of them its record)",
		st1.Fetched, st1.Indexed, mem, mem/max(st1.Fetched, 1), records/max(st1.Fetched, 1))
	second := &memSink{}
	runWorkers(t, t.Context(), sharedWorker(t, rd.URL(0), "py", second, o, SharedOptions{}), sharedWorker(t, rd.URL(0), "py", second, o, SharedOptions{}))
	st2 := jobStatus(t, rd.URL(0), "py")
	t.Logf("pass 2: %+v", st2)
	if st1.Indexed < 520 || st2.Pass != 2 || st2.Fetched != st1.Fetched || second.len() != 0 || st2.Skipped["not_modified"] < st1.Indexed {
		t.Errorf("pass 1 indexed %d; pass %d fetched %d (want %d), indexed %d, not_modified %d; want every page asked again, 304, nothing indexed",
			st1.Indexed, st2.Pass, st2.Fetched, st1.Fetched, second.len(), st2.Skipped["not_modified"])
	}
}

// jobMemory sums MEMORY USAGE over the job's keys, and says how much of
// it the page records take.
func jobMemory(t *testing.T, url, job string) (total, records int64) {
	f, err := OpenShared(url, job)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	iter := f.rdb.Scan(t.Context(), 0, jobPrefix(job)+"*", 1000).Iterator()
	for iter.Next(t.Context()) {
		n, err := f.rdb.MemoryUsage(t.Context(), iter.Val(), 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if iter.Val() == f.key("records") {
			records = n
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return total, records
}
