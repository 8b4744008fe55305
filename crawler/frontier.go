package crawler

import (
	"context"
	"net/url"
	"sync"
	"time"
)

// entry is one URL in the frontier.
type entry struct {
	URL   string `json:"url"`
	Depth int    `json:"depth"`
	// Attempts counts fetches that failed with a retryable error.
	Attempts int `json:"attempts,omitempty"`
	// NotBefore delays a retry (backoff).
	NotBefore time.Time `json:"not_before,omitzero"`
	// Redirects counts the redirects that led to this URL.
	Redirects int `json:"redirects,omitempty"`
	seq       uint64
}

// hostOf returns scheme://authority of a canonical URL: the unit of
// politeness and of robots.txt.
func hostOf(canonicalURL string) string {
	u, err := url.Parse(canonicalURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

type taskKind int

const (
	taskPage    taskKind = iota // fetch a page
	taskSkip                    // record a page as skipped without fetching it
	taskRobots                  // read a host's robots.txt
	taskSitemap                 // read one sitemap
)

// task is one unit of work the frontier hands a worker.
type task struct {
	kind taskKind
	host *hostState
	e    *entry // page and skip tasks
	// reason is why a skip task is skipped.
	reason string
	// url is a sitemap task's URL; nested is true for a sitemap named by
	// a sitemap index.
	url    string
	nested bool
	// lease names the task's lease in a shared crawl's frontier: the
	// page's URL, or "S " and a sitemap's URL.
	lease string
	// prev is what a shared crawl remembers of the page from its last
	// fetch (validators, links, fingerprints); a local crawl reads it from
	// its state.
	prev *urlRecord
}

// hostState is the frontier's view of one host.
type hostState struct {
	key      string
	queue    []*entry // FIFO
	retries  []*entry // waiting for their NotBefore
	sitemaps []task   // sitemap tasks, run before pages
	// sitemapsTaken counts the sitemap files queued for the host, at most
	// maxSitemapsPerHost.
	sitemapsTaken int
	robots        *robotsRules
	loading       bool
	inflight      int
	next          time.Time // earliest start of the next request
	delay         time.Duration
	parallel      int
	active        bool // in frontier.active
}

func (h *hostState) hasWork() bool {
	return len(h.queue) > 0 || len(h.retries) > 0 || len(h.sitemaps) > 0 || (h.robots == nil && !h.loading)
}

// frontier schedules the crawl: per-host queues with politeness (at most
// parallel requests in flight, request starts at least delay apart, longer
// after a Retry-After), robots.txt read before a host's first page, and a
// budget of page fetches (max pages). It knows the crawl is over when no
// URL is queued (or the budget is spent) and no task is outstanding, an
// outstanding task being one whose outcome is not yet committed.
type frontier struct {
	mu          sync.Mutex
	hosts       map[string]*hostState
	active      []*hostState
	rr          int
	outstanding int
	queued      int
	budget      int // page fetches left
	inflight    int // page fetches in progress
	changed     chan struct{}
	closed      bool

	delay     func(host string) time.Duration
	parallel  func(host string) int
	maxDelay  time.Duration
	sitemapOK bool
	now       func() time.Time
	// sitemapsWanted says whether a host's sitemaps are still to be read
	// in this job; nil means yes.
	sitemapsWanted func(host string) bool
	// started, when set, is told of every request start the frontier
	// allows (robots.txt, sitemaps, pages), with the time it decided by.
	started func(host string, at time.Time)
}

func newFrontier(budget int, delay func(string) time.Duration, parallel func(string) int, maxDelay time.Duration, sitemaps bool) *frontier {
	return &frontier{
		hosts:     make(map[string]*hostState),
		budget:    budget,
		changed:   make(chan struct{}),
		delay:     delay,
		parallel:  parallel,
		maxDelay:  maxDelay,
		sitemapOK: sitemaps,
		now:       time.Now,
	}
}

// signal wakes every waiting next. Callers hold mu.
func (f *frontier) signal() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *frontier) host(key string) *hostState {
	h := f.hosts[key]
	if h == nil {
		h = &hostState{key: key, delay: f.delay(key), parallel: max(1, f.parallel(key))}
		f.hosts[key] = h
	}
	return h
}

func (f *frontier) activate(h *hostState) {
	if !h.active && h.hasWork() {
		h.active = true
		f.active = append(f.active, h)
	}
}

// push queues e. Entries with a NotBefore in the future wait for it.
func (f *frontier) push(es ...*entry) {
	if len(es) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range es {
		h := f.host(hostOf(e.URL))
		if e.NotBefore.After(f.now()) {
			h.retries = append(h.retries, e)
		} else {
			h.queue = append(h.queue, e)
		}
		f.queued++
		f.activate(h)
	}
	f.signal()
}

// pushSitemaps queues sitemap tasks for a host (after its robots.txt).
func (f *frontier) pushSitemaps(h *hostState, urls []string, nested bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h.queueSitemaps(urls, nested, &f.outstanding)
	f.activate(h)
	f.signal()
}

// queueSitemaps adds sitemap tasks, up to the host's limit; each counts
// as outstanding from now on.
func (h *hostState) queueSitemaps(urls []string, nested bool, outstanding *int) {
	for _, u := range urls {
		if h.sitemapsTaken >= maxSitemapsPerHost {
			return
		}
		h.sitemapsTaken++
		h.sitemaps = append(h.sitemaps, task{kind: taskSitemap, host: h, url: u, nested: nested})
		*outstanding++
	}
}

// next blocks until a task is ready and returns it, or returns false when
// the crawl is over or ctx is done.
func (f *frontier) next(ctx context.Context) (task, bool) {
	for {
		if ctx.Err() != nil {
			return task{}, false
		}
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return task{}, false
		}
		t, wait, ok := f.pick()
		if ok {
			f.outstanding++
			f.mu.Unlock()
			return t, true
		}
		if f.outstanding == 0 && (f.queued == 0 || f.budget <= 0) {
			f.closed = true
			f.signal()
			f.mu.Unlock()
			return task{}, false
		}
		changed := f.changed
		f.mu.Unlock()
		if !waitChange(ctx, changed, wait) {
			return task{}, false
		}
	}
}

// waitChange waits for a change, for d when d is positive, or for ctx, and
// reports whether ctx is still live.
func waitChange(ctx context.Context, changed <-chan struct{}, d time.Duration) bool {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-changed:
	case <-timer:
	}
	return true
}

// pick returns a ready task, or how long until one may be. Callers hold mu.
func (f *frontier) pick() (t task, wait time.Duration, ok bool) {
	now := f.now()
	wait = -1
	n := len(f.active)
	for i := 0; i < n; i++ {
		idx := (f.rr + i) % len(f.active)
		h := f.active[idx]
		if !h.hasWork() {
			continue
		}
		if h.robots == nil {
			if h.loading || f.budget-f.inflight <= 0 {
				continue // no robots.txt for a host whose pages cannot be fetched
			}
			h.loading = true
			h.inflight++
			f.rr = idx + 1
			f.record(h, now)
			return task{kind: taskRobots, host: h}, 0, true
		}
		// URLs that need no request (robots-disallowed, refused host) go
		// first, without waiting for politeness or spending budget.
		if len(h.queue) > 0 {
			e := h.queue[0]
			if reason := h.skipReason(e.URL); reason != "" {
				h.queue = h.queue[1:]
				f.queued--
				return task{kind: taskSkip, host: h, e: e, reason: reason}, 0, true
			}
		}
		if h.inflight >= h.parallel {
			continue
		}
		if d := h.next.Sub(now); d > 0 {
			if wait < 0 || d < wait {
				wait = d
			}
			continue
		}
		if len(h.sitemaps) > 0 {
			t := h.sitemaps[0]
			h.sitemaps = h.sitemaps[1:]
			f.outstanding-- // counted when queued; next counts it again
			f.startRequest(h, now)
			f.rr = idx + 1
			return t, 0, true
		}
		if f.budget-f.inflight <= 0 {
			continue
		}
		e, d := h.take(now)
		if e == nil {
			if d > 0 && (wait < 0 || d < wait) {
				wait = d
			}
			continue
		}
		f.queued--
		f.inflight++
		f.startRequest(h, now)
		f.rr = idx + 1
		return task{kind: taskPage, host: h, e: e}, 0, true
	}
	f.compact()
	return task{}, wait, false
}

func (f *frontier) startRequest(h *hostState, now time.Time) {
	h.inflight++
	h.next = now.Add(h.delay)
	f.record(h, now)
}

// record tells started of a request start. Callers hold mu.
func (f *frontier) record(h *hostState, now time.Time) {
	if f.started != nil {
		f.started(h.key, now)
	}
}

// compact drops hosts without work from the active list. Callers hold mu.
func (f *frontier) compact() {
	kept := f.active[:0]
	for _, h := range f.active {
		if h.hasWork() {
			kept = append(kept, h)
		} else {
			h.active = false
		}
	}
	for i := len(kept); i < len(f.active); i++ {
		f.active[i] = nil
	}
	f.active = kept
	if f.rr >= len(f.active) {
		f.rr = 0
	}
}

// skipReason says why a URL of the host is not fetched at all, or "".
func (h *hostState) skipReason(u string) string {
	if h.robots.blocked != "" {
		return h.robots.blocked
	}
	if !h.robots.allowed(u) {
		return "robots"
	}
	return ""
}

// take returns the next entry to fetch: a retry whose time has come, else
// the head of the queue; or how long until a retry is due.
func (h *hostState) take(now time.Time) (*entry, time.Duration) {
	var soonest time.Duration = -1
	for i, e := range h.retries {
		d := e.NotBefore.Sub(now)
		if d <= 0 {
			h.retries = append(h.retries[:i], h.retries[i+1:]...)
			return e, 0
		}
		if soonest < 0 || d < soonest {
			soonest = d
		}
	}
	if len(h.queue) > 0 {
		e := h.queue[0]
		h.queue = h.queue[1:]
		return e, 0
	}
	return nil, soonest
}

// robotsDone records a robots task's robots.txt and queues the host's
// sitemaps when they are wanted.
func (f *frontier) robotsDone(t task, r *robotsRules) {
	var sitemaps []string
	if r.blocked == "" && f.sitemapOK && (f.sitemapsWanted == nil || f.sitemapsWanted(t.host.key)) {
		sitemaps = sitemapURLs(t.host.key, r)
	}
	f.robotsRead(t.host, r, sitemaps)
}

// robotsRead records a host's robots.txt, which sets its delay (a longer
// Crawl-delay wins, up to maxDelay, and makes the host sequential).
func (f *frontier) robotsRead(h *hostState, r *robotsRules, sitemaps []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h.robots = r
	h.loading = false
	h.inflight--
	f.outstanding--
	if r.crawlDelay > 0 {
		h.delay = max(h.delay, min(r.crawlDelay, f.maxDelay))
		h.parallel = 1
	}
	h.next = f.now().Add(h.delay) // robots.txt was a request too
	h.queueSitemaps(sitemaps, false, &f.outstanding)
	f.activate(h)
	f.signal()
}

// requestDone frees a host's slot when a request ends; retryAfter, when
// positive, holds the host back that long (a 429 or 503 Retry-After).
// gotResponse false gives a page fetch's budget back (it counts only
// fetches that got a response).
func (f *frontier) requestDone(t task, gotResponse bool, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := t.host
	h.inflight--
	if retryAfter > 0 {
		h.next = maxTime(h.next, f.now().Add(min(retryAfter, f.maxDelay*5)))
	}
	if t.kind == taskPage {
		f.inflight--
		if gotResponse {
			f.budget--
		}
	}
	f.activate(h)
	f.signal()
}

// finish marks a task's outcome committed.
func (f *frontier) finish(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outstanding -= n
	f.signal()
}

// stats returns the number of queued URLs and whether the page budget is
// spent.
func (f *frontier) stats() (queued int, budgetSpent bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queued, f.budget <= 0
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
