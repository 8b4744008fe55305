package crawler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/extract"
)

// Crawler runs one crawl job. Create it with New and call Run once.
type Crawler struct {
	opts   Options
	scope  *scope
	state  *State
	sink   Sink
	log    *slog.Logger
	robots *robotsCache
	client *http.Client
	front  *frontier
	// sched is what the workers take tasks from: front for a local crawl,
	// a job's frontier in Redis for a shared one.
	sched scheduler
	// shared is set for a worker of a crawl job shared in Redis.
	shared *sharedRun
	live   liveStats
	// abort stops the crawl with an error (a failed commit or flush).
	abort func(error)
	// ownsState is set by Open: Close closes the state.
	ownsState bool
}

// New validates the options and prepares a crawl that writes its state to
// st and its documents to sink. Invalid options give a *cari.FieldError.
func New(st *State, sink Sink, opts Options) (*Crawler, error) {
	contactless := opts.Contact == ""
	opts = opts.withDefaults()
	sc, err := newScope(opts)
	if err != nil {
		return nil, err
	}
	if contactless {
		// Site operators who want the crawl to stop write to the contact.
		opts.Logger.Info("no contact given; the User-Agent names " + DefaultContact + ": give your own (cari crawl --contact) so that site operators can reach you")
	}
	c := &Crawler{opts: opts, scope: sc, state: st, sink: sink, log: opts.Logger, robots: &robotsCache{}}
	c.client = newHTTPClient(opts, sc.policy, c.robots)
	return c, nil
}

// Open validates the options and then opens the crawl state in dir
// (creating it if needed; ErrStateLocked while another process crawls
// from it) for a crawl whose documents go to sink. Close releases the
// state. Invalid options give a *cari.FieldError and leave dir untouched.
func Open(dir string, sink Sink, opts Options) (*Crawler, error) {
	c, err := New(nil, sink, opts)
	if err != nil {
		return nil, err
	}
	if c.state, err = OpenState(dir); err != nil {
		return nil, err
	}
	c.ownsState = true
	return c, nil
}

// Close closes the crawl state when Open opened it; a Crawler from New
// leaves its State to the caller.
func (c *Crawler) Close() error {
	if !c.ownsState {
		return nil
	}
	return c.state.Close()
}

// outcome is what a worker learned from one task, for the committer.
type outcome struct {
	t task
	// skip or fail name why the URL was not indexed; at most one is set.
	skip, fail string
	// retry asks for the entry to be tried again later.
	retry bool
	// fetched is true when the request got a response; bytes its size.
	fetched bool
	bytes   int64
	// record is what to remember about the URL (validators, links).
	record *urlRecord
	// links are URLs found (page links at depth+1, sitemap URLs at 1).
	links     []string
	linkDepth int
	// redirect is a redirect's or a rel="canonical" target; canonicalOf
	// says which, and doc is the page itself (indexed instead when the
	// canonical target cannot be followed).
	redirect    string
	canonicalOf bool
	doc         *cari.Document
	simHash     uint64
	hasSimHash  bool
	// sitemaps are nested sitemaps a sitemap index named.
	sitemaps []string
	// prev is what was remembered about the URL before this fetch.
	prev *urlRecord
}

// Run crawls until the frontier is empty, the page budget is spent or ctx
// is done, and returns the final progress. When ctx ends first, the
// fetches under way are abandoned, everything already fetched is kept,
// and a later Run with the same seeds and scope continues the crawl.
func (c *Crawler) Run(ctx context.Context) (Progress, error) {
	if c.shared != nil {
		return c.runShared(ctx)
	}
	start := time.Now()
	job, err := c.state.startJob(c.scope.fingerprint(), start, c.opts.Fresh)
	if err != nil {
		return Progress{}, err
	}
	dedup, err := c.state.loadDedup()
	if err != nil {
		return Progress{}, fmt.Errorf("load content fingerprints: %w", err)
	}
	pending, err := c.state.pendingDocs()
	if err != nil {
		return Progress{}, fmt.Errorf("load documents waiting for the index: %w", err)
	}
	c.front = newFrontier(c.opts.MaxPages-int(job.counters.Fetched), c.opts.hostDelay, c.opts.hostParallelism,
		c.opts.MaxCrawlDelay, !c.opts.NoSitemaps && c.scope.maxDepth > 0)
	c.front.started = c.opts.scheduled
	c.front.sitemapsWanted = c.live.sitemapsWanted
	c.sched = c.front
	c.live.init(job, start, c.front)
	slices.SortFunc(job.queue, func(a, b *entry) int { return cmp.Compare(a.seq, b.seq) })
	c.front.push(job.queue...)
	if job.resumed {
		c.log.Info("resuming crawl", "crawl_id", job.meta.ID, "fetched", job.counters.Fetched,
			"queued", len(job.queue), "indexed", job.acked.Indexed, "unindexed_documents", len(pending))
	} else {
		c.log.Info("starting crawl", "crawl_id", job.meta.ID, "seeds", len(c.scope.seeds), "max_pages", c.opts.MaxPages,
			"max_depth", c.scope.maxDepth, "user_agent", c.opts.userAgent())
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c.abort = cancel
	defer c.live.stopClock()
	col, err := c.newCollector(runCtx, c.client)
	if err != nil {
		return Progress{}, err
	}
	cm := newCommitter(c, job, dedup)
	if !job.resumed {
		if err := cm.admitSeeds(); err != nil {
			return Progress{}, err
		}
	}

	// Unbuffered: an outcome waits in no queue, so a crawl killed at any
	// moment has as few fetched, uncommitted pages as possible.
	outcomes := make(chan outcome)
	docs := make(chan cari.Document, c.opts.FlushEvery)
	var wg sync.WaitGroup
	for range c.opts.Concurrency {
		wg.Go(func() { c.work(runCtx, col, outcomes) })
	}
	commitDone := make(chan error, 1)
	go func() { commitDone <- cm.run(runCtx, outcomes, docs) }()
	sinkDone := make(chan error, 1)
	go func() { sinkDone <- c.feedSink(ctx, job.meta.ID, pending, docs) }()

	wg.Wait()
	close(outcomes)
	errCommit := <-commitDone

	if errCommit != nil {
		cancel(errCommit)
	}
	errSink := <-sinkDone
	if err := errors.Join(errCommit, errSink); err != nil {
		return c.Progress(), err
	}
	if cause := context.Cause(runCtx); cause != nil && !errors.Is(cause, context.Canceled) {
		return c.Progress(), cause
	}
	return c.Progress(), ctx.Err()
}

// scheduler hands the workers their tasks and hears when requests end,
// which is all a worker needs of a frontier: the local one (frontier.go)
// or a crawl job's frontier shared by many workers in Redis (shared.go).
type scheduler interface {
	// next blocks until a task is ready; false means the crawl is over
	// for this worker (or ctx is done).
	next(ctx context.Context) (task, bool)
	// robotsDone records a host's robots.txt as read by a robots task.
	robotsDone(t task, r *robotsRules)
	// requestDone frees the host's slot when a request ends; see
	// frontier.requestDone.
	requestDone(t task, gotResponse bool, retryAfter time.Duration)
	// finish marks n tasks whose outcome will never come (abandoned as
	// the crawl stops).
	finish(n int)
}

// work runs tasks until the frontier has none left.
func (c *Crawler) work(ctx context.Context, col *colly.Collector, out chan<- outcome) {
	for {
		t, ok := c.sched.next(ctx)
		if !ok {
			return
		}
		var o outcome
		switch t.kind {
		case taskRobots:
			c.sched.robotsDone(t, c.fetchRobots(ctx, t.host.key))
			continue
		case taskSitemap:
			o = c.runSitemap(ctx, t)
		case taskSkip:
			o = outcome{t: t, skip: t.reason}
		case taskPage:
			o = c.runPage(ctx, col, t)
		}
		if ctx.Err() != nil {
			// Abandoned: the entry stays queued in the state file (or
			// leased in Redis until the lease is given back) and is
			// fetched when the crawl resumes.
			c.sched.finish(1)
			continue
		}
		out <- o
	}
}

func (c *Crawler) runSitemap(ctx context.Context, t task) outcome {
	locs, index := c.fetchSitemap(ctx, t.url)
	c.sched.requestDone(t, true, 0)
	o := outcome{t: t, linkDepth: 1}
	host := t.host.key
	for _, l := range locs {
		cu, err := extract.Canonicalize(l)
		if err != nil || hostOf(cu) != host {
			continue // a sitemap speaks for its own host only
		}
		if index {
			if !t.nested {
				o.sitemaps = append(o.sitemaps, cu)
			}
		} else {
			o.links = append(o.links, cu)
		}
	}
	return o
}

// runPage fetches one page and works out what to do with it.
func (c *Crawler) runPage(ctx context.Context, col *colly.Collector, t task) outcome {
	o := outcome{t: t, linkDepth: t.e.Depth + 1}
	prev := c.urlRecord(t)
	o.prev = prev
	fetchedAt := time.Now()
	res, err := c.fetch(col, t.e.URL, prev)
	o.fetched = err == nil && res.status != 0
	o.bytes = int64(len(res.body))
	var wait time.Duration
	if res.status == http.StatusTooManyRequests || res.status == http.StatusServiceUnavailable {
		wait = retryAfter(res.header, time.Now())
	}
	c.sched.requestDone(t, o.fetched, wait)
	if ctx.Err() != nil {
		return o
	}
	if err != nil {
		reason, retry := errorReason(err)
		if reason == "private_address" || reason == "robots" {
			o.skip = reason
			return o
		}
		c.log.Debug("fetch failed", "url", t.e.URL, "reason", reason, "error", err)
		return c.failOrRetry(o, reason, retry, 0)
	}
	switch s := res.status; {
	case s == http.StatusNotModified && prev != nil:
		o.skip = "not_modified"
		o.links = prev.Links
		return o
	case s >= 300 && s < 400:
		return c.redirect(o, res)
	case s >= 500:
		return c.failOrRetry(o, "http_5xx", true, retryAfter(res.header, time.Now()))
	case s >= 400:
		o.fail = "http_4xx"
		return o
	case s < 200 || s > 299:
		o.fail = fmt.Sprintf("http_%dxx", s/100)
		return o
	}
	if res.skip != "" {
		o.skip = res.skip
		return o
	}
	return c.extract(o, res, prev, fetchedAt)
}

// urlRecord is what the crawl remembers of a task's page from earlier
// fetches, for a conditional request; nil when nothing. A shared crawl's
// lease brings it from Redis.
func (c *Crawler) urlRecord(t task) *urlRecord {
	if c.state == nil {
		return t.prev
	}
	u := t.e.URL
	recs, err := c.state.urlRecords([]string{u})
	if err != nil {
		c.log.Warn("read page record", "url", u, "error", err)
	}
	return recs[u]
}

// failOrRetry turns a failed fetch into a retry with exponential backoff
// and jitter while attempts remain, else into an error.
func (c *Crawler) failOrRetry(o outcome, reason string, retry bool, after time.Duration) outcome {
	e := *o.t.e
	if !retry || e.Attempts >= c.opts.retries() {
		o.fail = reason
		return o
	}
	backoff := c.opts.RetryBackoff << e.Attempts
	backoff += time.Duration(rand.Int64N(int64(backoff)/5 + 1))
	e.Attempts++
	e.NotBefore = time.Now().Add(max(backoff, min(after, 5*time.Minute)))
	o.t.e = &e
	o.retry = true
	return o
}

func (c *Crawler) redirect(o outcome, res *fetchResult) outcome {
	loc := res.header.Get("Location")
	if loc == "" {
		o.fail = "http_3xx"
		return o
	}
	base, _ := url.Parse(o.t.e.URL)
	ref, err := url.Parse(loc)
	if err != nil {
		o.fail = "bad_redirect"
		return o
	}
	target, err := extract.CanonicalURL(base.ResolveReference(ref))
	if err != nil {
		o.fail = "bad_redirect"
		return o
	}
	if o.t.e.Redirects >= c.opts.MaxRedirects {
		o.fail = "too_many_redirects"
		return o
	}
	o.skip = "redirect"
	o.redirect = target
	return o
}

// extract turns a 2xx page into a document and its links.
func (c *Crawler) extract(o outcome, res *fetchResult, prev *urlRecord, fetchedAt time.Time) outcome {
	pageURL, _ := url.Parse(o.t.e.URL)
	page, err := extract.Fetched(pageURL, res.header, res.body)
	if errors.Is(err, extract.ErrNotPage) && !errors.Is(err, extract.ErrNoIndex) {
		o.skip = "not_html"
		return o
	}
	rec := &urlRecord{
		ETag:         res.header.Get("ETag"),
		LastModified: res.header.Get("Last-Modified"),
		Fetched:      fetchedAt.UTC(),
		Links:        page.Links,
	}
	o.record = rec
	o.links = page.Links
	switch {
	case errors.Is(err, extract.ErrNoIndex):
		o.skip = "noindex"
		return o
	case err != nil:
		o.fail = "extract"
		return o
	}
	doc := page.Document
	doc.URL = o.t.e.URL
	doc.ID = cari.DocumentID(doc.URL)
	doc.Crawled = fetchedAt.UTC()
	doc.ContentHash = cari.ContentHash(doc.Text)
	o.doc = &doc
	o.simHash, o.hasSimHash = SimHash(doc.Text)
	if page.Canonical != "" && page.Canonical != o.t.e.URL && hostOf(page.Canonical) == hostOf(o.t.e.URL) {
		o.redirect = page.Canonical
		o.canonicalOf = true
	}
	return o
}
