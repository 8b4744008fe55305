package crawler

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cari-search/cari/internal/redistest"
)

// linkedSite is a site of n pages, each linking to the next three, that
// counts requests per path and the most requests it ever had in flight at
// once; every answer takes latency. robots.txt disallows /private/.
type linkedSite struct {
	srv     *httptest.Server
	latency time.Duration

	mu          sync.Mutex
	hits        map[string]int
	inflight    int
	maxInflight int
	onHit       func(total int)
	total       int
}

func newLinkedSite(t *testing.T, n int, latency time.Duration) *linkedSite {
	s := &linkedSite{hits: make(map[string]int), latency: latency}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.total++
		s.inflight++
		s.maxInflight = max(s.maxInflight, s.inflight)
		hook, total := s.onHit, s.total
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inflight--
			s.mu.Unlock()
		}()
		if hook != nil {
			hook(total)
		}
		time.Sleep(s.latency)
		if r.URL.Path == "/robots.txt" {
			fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
			return
		}
		var i int
		if _, err := fmt.Sscanf(r.URL.Path, "/p/%d", &i); err != nil || i >= n {
			http.NotFound(w, r)
			return
		}
		var links []string
		for j := i + 1; j <= i+3 && j < n; j++ {
			links = append(links, fmt.Sprintf("/p/%d", j))
		}
		links = append(links, "/private/x")
		fmt.Fprint(w, page(fmt.Sprintf("Page %d", i), "", para(uint64(i)+7, 120), links...))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// pageHits returns the request counts of the /p/ pages and /robots.txt.
func (s *linkedSite) pageHits() (pages map[string]int, robots int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pages = make(map[string]int)
	for p, n := range s.hits {
		if strings.HasPrefix(p, "/p/") {
			pages[p] = n
		}
	}
	return pages, s.hits["/robots.txt"]
}

// sharedWorker starts one worker of job on the Redis at url.
func sharedWorker(t *testing.T, url, job string, sink Sink, o Options, so SharedOptions) *Crawler {
	t.Helper()
	f, err := OpenShared(url, job)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	c, err := NewShared(t.Context(), f, sink, o, so)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runWorkers runs the workers to their end and returns their progress.
func runWorkers(t *testing.T, ctx context.Context, ws ...*Crawler) []Progress {
	t.Helper()
	out := make([]Progress, len(ws))
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Go(func() { out[i], errs[i] = w.Run(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
	return out
}

func sharedSiteOptions(t *testing.T, s *linkedSite, parallel int) Options {
	o := Options{Seeds: []string{s.srv.URL + "/p/0"}, MaxDepth: 100, HostParallelism: parallel, Concurrency: 4}
	loopbackOnly(t, &o)
	return o
}

// TestSharedCrawlFetchesEachPageOnce runs three workers of one job: every
// page is fetched exactly once and indexed, robots.txt is read once for
// all of them, a disallowed page is never asked for, and the host never
// has more requests in flight than its limit, whichever worker sends them.
func TestSharedCrawlFetchesEachPageOnce(t *testing.T) {
	rd := redistest.Start(t, false)
	const n, parallel = 60, 2
	s := newLinkedSite(t, n, 5*time.Millisecond)
	sink := &memSink{}
	o := sharedSiteOptions(t, s, parallel)
	var ws []*Crawler
	for range 3 {
		ws = append(ws, sharedWorker(t, rd.URL(0), "once", sink, o, SharedOptions{}))
	}
	ps := runWorkers(t, t.Context(), ws...)
	pages, robots := s.pageHits()
	var fetched int64
	for _, p := range ps {
		fetched += p.FetchedThisRun
		if !p.Done || p.StopReason != StopFrontierEmpty {
			t.Errorf("worker ended with done %v, %q; want frontier_empty", p.Done, p.StopReason)
		}
	}
	if len(pages) != n || sink.len() != n || fetched != n {
		t.Errorf("pages asked for %d, indexed %d, fetched by the workers %d; want %d each", len(pages), sink.len(), fetched, n)
	}
	for p, k := range pages {
		if k != 1 {
			t.Errorf("%s fetched %d times, want once", p, k)
		}
	}
	if robots != 1 || s.hits["/private/x"] != 0 {
		t.Errorf("robots.txt asked %d times (want 1), /private/x %d (want 0)", robots, s.hits["/private/x"])
	}
	if s.maxInflight > parallel {
		t.Errorf("the host had %d requests in flight at once, the limit is %d", s.maxInflight, parallel)
	}
	f, _ := OpenShared(rd.URL(0), "once")
	defer f.Close()
	st, err := f.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Done || st.Fetched != n || st.Indexed != n || st.Skipped["robots"] != 1 || st.Leased != 0 || st.Queued != 0 {
		t.Errorf("status %+v; want done, %d fetched and indexed, 1 skipped for robots, nothing leased or queued", st, n)
	}
}

// TestSharedCrawlSpacesRequestsAcrossWorkers checks the global delay: the
// starts two workers were allowed for one host are at least the delay
// apart.
func TestSharedCrawlSpacesRequestsAcrossWorkers(t *testing.T) {
	rd := redistest.Start(t, false)
	s := newLinkedSite(t, 8, 0)
	const delay = 40 * time.Millisecond
	o := sharedSiteOptions(t, s, 4)
	o.HostDelay = delay
	var allowed schedule
	o.scheduled = allowed.record
	sink := &memSink{}
	runWorkers(t, t.Context(), sharedWorker(t, rd.URL(0), "pace", sink, o, SharedOptions{}), sharedWorker(t, rd.URL(0), "pace", sink, o, SharedOptions{}))
	starts := allowed.of(s.srv.URL)
	if len(starts) != 10 { // robots.txt, sitemap.xml (absent) and 8 pages
		t.Fatalf("%d request starts, want 10", len(starts))
	}
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < delay {
			t.Errorf("requests %d and %d started %v apart, the delay is %v", i-1, i, gap, delay)
		}
	}
}

// TestSharedCrawlRequeuesDeadWorkersLeases leases pages to a worker that
// then dies (it never answers): once its leases expire another worker
// fetches them, and the job completes with every page fetched once.
func TestSharedCrawlRequeuesDeadWorkersLeases(t *testing.T) {
	rd := redistest.Start(t, false)
	s := newLinkedSite(t, 20, 0)
	sink := &memSink{}
	o := sharedSiteOptions(t, s, 4)
	const ttl = 300 * time.Millisecond
	w := sharedWorker(t, rd.URL(0), "dead", sink, o, SharedOptions{LeaseTTL: ttl})
	// The dead worker takes the host's robots.txt lease, by hand.
	f := w.shared.f
	lease := func() []any {
		res, err := leaseScript.Run(t.Context(), f.rdb, nil, f.prefix, "dead-worker", nowMS(), ttl.Milliseconds()).Slice()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if err := w.shared.admitSeeds(t.Context()); err != nil {
		t.Fatal(err)
	}
	if res := lease(); res[0] != "robots" {
		t.Fatalf("first lease %v, want robots", res)
	}
	start := time.Now()
	p := runWorkers(t, t.Context(), w)[0]
	pages, robots := s.pageHits()
	if time.Since(start) < ttl/2 || len(pages) != 20 || robots != 1 || sink.len() != 20 || !p.Done {
		t.Errorf("after %v: %d pages fetched, robots.txt %d times, %d indexed, done %v; want the dead worker's robots lease to expire, then 20, 1, 20, true",
			time.Since(start), len(pages), robots, sink.len(), p.Done)
	}
	st, err := f.Status(t.Context())
	if err != nil || st.Requeued != 1 {
		t.Errorf("status %+v, %v: want 1 lease requeued", st, err)
	}
}

// TestSharedCrawlPausesWhileRedisIsDown stops Redis (AOF on) midway and
// starts it again: the workers pause, resume, and finish with every page
// fetched once.
func TestSharedCrawlPausesWhileRedisIsDown(t *testing.T) {
	rd := redistest.Start(t, true)
	const n = 40
	s := newLinkedSite(t, n, 2*time.Millisecond)
	var once sync.Once
	restarted := make(chan struct{})
	s.onHit = func(total int) {
		if total == 15 {
			once.Do(func() {
				go func() {
					rd.Stop()
					time.Sleep(300 * time.Millisecond)
					rd.Restart()
					close(restarted)
				}()
			})
		}
	}
	sink := &memSink{}
	o := sharedSiteOptions(t, s, 2)
	runWorkers(t, t.Context(), sharedWorker(t, rd.URL(0), "down", sink, o, SharedOptions{}), sharedWorker(t, rd.URL(0), "down", sink, o, SharedOptions{}))
	<-restarted
	wantEachPageOnce(t, s, sink, n)
}

// wantEachPageOnce checks that each of the site's n pages was fetched once
// and indexed.
func wantEachPageOnce(t *testing.T, s *linkedSite, sink *memSink, n int) {
	t.Helper()
	pages, _ := s.pageHits()
	if len(pages) != n || sink.len() != n {
		t.Errorf("%d pages fetched, %d indexed; want %d", len(pages), sink.len(), n)
	}
	for p, k := range pages {
		if k != 1 {
			t.Errorf("%s fetched %d times, want once", p, k)
		}
	}
}

// TestSharedCrawlStopAndResume stops a job: its worker exits saying so
// and fetches nothing; resumed, the next worker completes it.
func TestSharedCrawlStopAndResume(t *testing.T) {
	rd := redistest.Start(t, false)
	s := newLinkedSite(t, 10, 0)
	sink := &memSink{}
	o := sharedSiteOptions(t, s, 2)
	w := sharedWorker(t, rd.URL(0), "pausable", sink, o, SharedOptions{})
	f := w.shared.f
	if err := f.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p := runWorkers(t, t.Context(), w)[0]; p.StopReason != StopJobStopped || p.Done || p.FetchedThisRun != 0 {
		t.Errorf("stopped job: worker ended with %+v, want stopped, not done, nothing fetched", p)
	}
	if err := f.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	joiner := o
	joiner.Seeds = nil // a worker joining a job needs no seed
	if p := runWorkers(t, t.Context(), sharedWorker(t, rd.URL(0), "pausable", sink, joiner, SharedOptions{}))[0]; !p.Done || sink.len() != 10 {
		t.Errorf("resumed job: worker ended with %+v and %d pages indexed, want done with 10", p, sink.len())
	}
	missing, _ := OpenShared(rd.URL(0), "nosuchjob")
	defer missing.Close()
	if _, err := missing.Status(t.Context()); err == nil || !strings.Contains(err.Error(), "no such crawl job") {
		t.Errorf("status of a missing job: %v", err)
	}
	if _, err := NewShared(t.Context(), missing, sink, joiner, SharedOptions{}); err == nil || !strings.Contains(err.Error(), "does not exist yet") {
		t.Errorf("joining a missing job without a seed: %v", err)
	}
}

// lostReplyHook makes the first lease granted to a worker look lost in
// transit: Redis runs the lease script, but the worker gets a network error
// instead of its answer, as when Redis shuts down between running a
// command and sending its reply (or a connection drops then).
type lostReplyHook struct {
	kind    string // the granted task whose reply is lost: "page" or "robots"
	dropped atomic.Bool
}

func (h *lostReplyHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *lostReplyHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *lostReplyHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		args := cmd.Args()
		if err != nil || len(args) < 2 || args[1] != leaseScript.Hash() {
			return err
		}
		if res, _ := cmd.(*redis.Cmd).Slice(); len(res) > 0 && res[0] == h.kind && h.dropped.CompareAndSwap(false, true) {
			return io.ErrUnexpectedEOF
		}
		return nil
	}
}

// TestSharedCrawlLeaseReplyLost loses the reply of a granted lease (a
// page's, then a robots.txt's): the worker asks again and must get the same
// lease back, not a second one beside an orphan that its heartbeat would
// renew for ever, holding the host's slot and keeping the job from ending.
func TestSharedCrawlLeaseReplyLost(t *testing.T) {
	for _, kind := range []string{"page", "robots"} {
		t.Run(kind, func(t *testing.T) {
			rd := redistest.Start(t, false)
			const n = 5
			s := newLinkedSite(t, n, 0)
			sink := &memSink{}
			w := sharedWorker(t, rd.URL(0), "lost-"+kind, sink, sharedSiteOptions(t, s, 1), SharedOptions{})
			// Loaded, the script runs by EVALSHA, which the hook tells by its hash.
			if err := leaseScript.Load(t.Context(), w.shared.f.rdb).Err(); err != nil {
				t.Fatal(err)
			}
			hook := &lostReplyHook{kind: kind}
			w.shared.f.rdb.AddHook(hook)
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			p, err := w.Run(ctx)
			if !hook.dropped.Load() {
				t.Fatalf("no %s lease was granted", kind)
			}
			if err != nil || !p.Done {
				t.Fatalf("worker ended with %v, %+v; want the job done (a lease is orphaned)", err, p)
			}
			wantEachPageOnce(t, s, sink, n)
		})
	}
}

// TestSharedCrawlOrphanLeaseExpires records a lease for a worker that the
// worker does not know it holds (as when its grant's reply, or the write
// that ended it, was lost): the worker's heartbeat must not renew it, so it
// expires, its page is queued again, and the job completes.
func TestSharedCrawlOrphanLeaseExpires(t *testing.T) {
	const n, ttl = 5, 300 * time.Millisecond
	s, sink, w := seededWorker(t, "orphan", n, ttl)
	f := w.shared.f
	res, err := leaseScript.Run(t.Context(), f.rdb, nil, f.prefix, w.shared.worker, nowMS(), ttl.Milliseconds()).Slice()
	if err != nil || res[0] != "robots" {
		t.Fatalf("orphan lease: %v, %v; want robots", res, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	p, err := w.Run(ctx)
	if err != nil || !p.Done {
		t.Fatalf("worker ended with %v, %+v; want the job done once the orphan lease expired", err, p)
	}
	pages, robots := s.pageHits()
	if len(pages) != n || robots != 1 || sink.len() != n {
		t.Errorf("%d pages fetched, robots.txt %d times, %d indexed; want %d, 1, %d", len(pages), robots, sink.len(), n, n)
	}
}

// seededWorker starts a worker of a new job on an n-page site, one request
// at a time, with leases of ttl, and queues the job's seed: for tests that
// put things in the job's frontier by hand before the worker runs.
func seededWorker(t *testing.T, job string, n int, ttl time.Duration) (*linkedSite, *memSink, *Crawler) {
	rd := redistest.Start(t, false)
	s := newLinkedSite(t, n, 0)
	sink := &memSink{}
	w := sharedWorker(t, rd.URL(0), job, sink, sharedSiteOptions(t, s, 1), SharedOptions{LeaseTTL: ttl})
	if err := w.shared.admitSeeds(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, sink, w
}
