package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cari-search/cari"
)

// StopJobStopped ends a shared crawl's worker when the job was stopped
// (cari crawl stop); cari crawl resume lets workers take it up again.
const StopJobStopped StopReason = "stopped"

// sharedRun is one worker's part in a crawl job shared in Redis: the
// scheduler its fetchers take leased tasks from, and the committer that
// hands documents to the sink and ends each lease only once the sink has
// flushed its document. A worker that dies before that has its leases
// expire and its pages fetched again by another worker; nothing else is
// fetched twice.
type sharedRun struct {
	f      *SharedFrontier
	c      *Crawler
	worker string
	ttl    time.Duration
	// recrawlAfter is the job's: how long after its fetch a page is due
	// again. sitemaps says whether the job reads sitemaps.
	recrawlAfter time.Duration
	sitemaps     bool
	// ctx is the run's: a robots.txt read as the worker stops is not
	// recorded (its lease is given back instead).
	ctx   context.Context
	start time.Time

	// pollMu is held by the one fetcher that polls Redis for a lease.
	pollMu  sync.Mutex
	mu      sync.Mutex
	robots  map[string]*robotsRules // parsed robots.txt by host, in pass
	pass    int64                   // the job's recrawl pass robots was read in
	end     StopReason              // why the job ended, once a lease said so
	prog    Progress                // the job's totals, refreshed by the heartbeat
	fetched int64                   // pages this worker fetched

	// leaseReq numbers the lease requests (under pollMu): a request asked
	// again after a lost reply keeps its number, and Redis answers it with
	// the lease it granted.
	leaseReq uint64
	// held names the leases this worker holds (under mu), the only ones its
	// heartbeat renews: from their grant until the script that ends them
	// has answered.
	held map[string]bool
}

// NewShared prepares a worker of the crawl job in f: the first worker
// creates the job from its options, later ones take the job's scope,
// politeness and recrawl interval and add their seeds to it. Documents go
// to sink. Invalid options give a *cari.FieldError.
func NewShared(ctx context.Context, f *SharedFrontier, sink Sink, opts Options, so SharedOptions) (*Crawler, error) {
	if so.LeaseTTL <= 0 {
		so.LeaseTTL = DefaultLeaseTTL
	}
	if so.RecrawlAfter < 0 {
		return nil, &cari.FieldError{Field: "recrawl_after", Reason: fmt.Sprintf("must be 0 (due when the pass ends) or more, got %v", so.RecrawlAfter)}
	}
	d := opts.withDefaults()
	opts.Logger, opts.MaxPages = d.Logger, d.MaxPages
	if len(opts.Seeds) > 0 {
		if _, err := newScope(opts); err != nil {
			return nil, err
		}
	} else {
		var exists bool
		err := withRetry(ctx, opts.Logger, "find the crawl job", func() error {
			var err error
			exists, err = f.rdb.HExists(ctx, f.key("meta"), "config").Result()
			return err
		})
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, &cari.FieldError{Field: "seeds", Reason: fmt.Sprintf("crawl job %s does not exist yet; its first worker needs a seed", f.job)}
		}
	}
	joined, cfg, err := f.join(ctx, opts, so)
	if err != nil {
		return nil, err
	}
	c, err := New(nil, sink, joined)
	if err != nil {
		return nil, err
	}
	c.shared = &sharedRun{f: f, c: c, worker: newWorkerID(), ttl: so.LeaseTTL, recrawlAfter: cfg.RecrawlAfter,
		sitemaps: !c.opts.NoSitemaps && c.scope.maxDepth > 0, robots: make(map[string]*robotsRules), held: make(map[string]bool)}
	c.sched = c.shared
	c.log = c.log.With("job", f.job, "worker", c.shared.worker)
	return c, nil
}

// maxLeasePoll is the longest a worker waits between two lease requests
// while none is granted: a host's slot freed by another worker is taken up
// within it.
const maxLeasePoll = 20 * time.Millisecond

func nowMS() int64 { return time.Now().UnixMilli() }

// runShared is Run for a worker of a shared crawl: it fetches until the
// job has no URL left (or its budget is spent, or it is stopped), then
// gives back whatever it still holds.
func (c *Crawler) runShared(ctx context.Context) (Progress, error) {
	s := c.shared
	s.mu.Lock()
	s.start = time.Now()
	s.prog = Progress{CrawlID: s.f.job}
	s.mu.Unlock()
	if err := s.startPass(ctx); err != nil {
		return s.progress(), err
	}
	if err := s.admitSeeds(ctx); err != nil {
		return s.progress(), err
	}
	c.log.Info("joined crawl job", "seeds", len(c.scope.seeds), "user_agent", c.opts.userAgent(), "lease_ttl", s.ttl)

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c.abort = cancel
	s.ctx = runCtx
	col, err := c.newCollector(runCtx, c.client)
	if err != nil {
		return s.progress(), err
	}
	hbCtx, stopHB := context.WithCancel(context.WithoutCancel(ctx))
	hbDone := make(chan struct{})
	go func() { defer close(hbDone); s.heartbeat(hbCtx) }()

	outcomes := make(chan outcome)
	var wg sync.WaitGroup
	for range c.opts.Concurrency {
		wg.Go(func() { c.work(runCtx, col, outcomes) })
	}
	commitDone := make(chan error, 1)
	go func() { commitDone <- s.commitLoop(runCtx, outcomes) }()
	wg.Wait()
	close(outcomes)
	errCommit := <-commitDone
	// Whatever this worker still holds (fetches abandoned as it stops) goes
	// back to the queue at once rather than when its leases expire.
	giveCtx, cancelGive := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	if err := s.f.requeue(giveCtx, s.worker); err != nil {
		c.log.Warn("give back leases", "error", err)
	}
	cancelGive()
	stopHB()
	<-hbDone
	s.refresh(context.WithoutCancel(ctx))
	p := s.progress()
	if errCommit != nil {
		return p, errCommit
	}
	if cause := context.Cause(runCtx); cause != nil && !errors.Is(cause, context.Canceled) {
		return p, cause
	}
	if ctx.Err() == nil {
		c.log.Info("crawl job finished for this worker", "stop_reason", p.StopReason)
	}
	return p, ctx.Err()
}

// progress is the job's totals as last read from Redis, with this
// worker's own fetches as FetchedThisRun.
func (s *sharedRun) progress() Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := s.start
	p := s.prog
	p.Skipped, p.Errors = cloneMap(p.Skipped), cloneMap(p.Errors)
	p.FetchedThisRun = s.fetched
	p.Elapsed = time.Since(start)
	if sec := p.Elapsed.Seconds(); sec > 0 {
		p.PagesPerSecond = float64(p.FetchedThisRun) / sec
	}
	if s.end != "" {
		p.Done, p.StopReason = s.end != StopJobStopped, s.end
	}
	return p
}

// heartbeat renews this worker's leases every third of their lifetime,
// puts back expired leases of dead workers every second, and refreshes
// the job's totals for Progress.
func (s *sharedRun) heartbeat(ctx context.Context) {
	renewEvery := s.ttl / 3
	lastRenew := time.Time{}
	tick := time.NewTicker(min(time.Second, renewEvery))
	defer tick.Stop()
	for {
		if time.Since(lastRenew) >= renewEvery {
			args := append([]any{s.f.prefix, s.worker, nowMS(), s.ttl.Milliseconds()}, s.heldLeases()...)
			err := renewScript.Run(ctx, s.f.rdb, nil, args...).Err()
			if err == nil {
				lastRenew = time.Now()
			}
		}
		if n, err := s.f.requeueExpired(ctx); err == nil && n > 0 {
			s.c.log.Info("leases of a dead worker expired; their pages are queued again", "leases", n)
		}
		s.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// refresh reads the job's totals. A new recrawl pass reads robots.txt
// again, so the worker forgets the copies it parsed.
func (s *sharedRun) refresh(ctx context.Context) {
	st, err := s.f.Status(ctx)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.Pass != s.pass {
		s.pass, s.robots = st.Pass, make(map[string]*robotsRules)
	}
	s.prog.Fetched, s.prog.Queued, s.prog.Indexed = st.Fetched, st.Queued, st.Indexed
	s.prog.Skipped, s.prog.Errors = st.Skipped, st.Errors
	s.prog.Retries, s.prog.BytesFetched, s.prog.Hosts = st.Retries, st.BytesFetched, st.Hosts
}

// next leases a task from the job, waiting while no host may be asked
// yet and while Redis is down. One fetcher of the worker polls at a time
// (the others wait for it on pollMu), so a worker asks Redis at most
// every few milliseconds however many fetchers it runs, and a fetcher that
// got a task hands the polling to the next at once.
func (s *sharedRun) next(ctx context.Context) (task, bool) {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	idle := time.Millisecond
	for {
		s.mu.Lock()
		ended := s.end != ""
		s.mu.Unlock()
		if ended || ctx.Err() != nil {
			return task{}, false
		}
		var res []any
		var now int64
		s.leaseReq++
		req := s.leaseReq
		err := withRetry(ctx, s.c.log, "lease a URL", func() error {
			var err error
			now = nowMS()
			res, err = leaseScript.Run(ctx, s.f.rdb, nil, s.f.prefix, s.worker, now, s.ttl.Milliseconds(), req).Slice()
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				s.c.abort(fmt.Errorf("lease a URL: %w", err))
			}
			return task{}, false
		}
		switch res[0] {
		case "page", "sitemap":
			t, ok := s.leasedTask(ctx, res)
			if !ok {
				continue
			}
			if t.kind != taskSkip {
				s.scheduled(t.host.key, now)
			}
			return t, true
		case "robots":
			s.hold("R " + res[1].(string))
			s.scheduled(res[1].(string), now)
			return task{kind: taskRobots, host: &hostState{key: res[1].(string)}}, true
		case "done", "stopped":
			reason := StopJobStopped
			if res[0] == "done" {
				reason = StopReason(res[1].(string))
			}
			s.mu.Lock()
			s.end = reason
			s.mu.Unlock()
			return task{}, false
		}
		// "wait": nothing may start yet. Poll again no later than the
		// next start, backing off to maxLeasePoll while nothing comes,
		// since other workers' requests may end at any moment.
		ms, _ := time.ParseDuration(res[1].(string) + "ms")
		d := min(ms, idle)
		idle = min(2*idle, maxLeasePoll)
		select {
		case <-ctx.Done():
			return task{}, false
		case <-time.After(d):
		}
	}
}

// hold records a lease granted to this worker, for its heartbeat to renew.
func (s *sharedRun) hold(lease string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held[lease] = true
}

// unhold forgets leases once the script that ends them has answered.
func (s *sharedRun) unhold(leases ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range leases {
		delete(s.held, m)
	}
}

// heldLeases is the leases this worker holds, as script arguments.
func (s *sharedRun) heldLeases() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := make([]any, 0, len(s.held))
	for m := range s.held {
		ms = append(ms, m)
	}
	return ms
}

// scheduled tells Options.scheduled (tests) of a request start the job
// allowed.
func (s *sharedRun) scheduled(host string, at int64) {
	if s.c.opts.scheduled != nil {
		s.c.opts.scheduled(host, time.UnixMilli(at))
	}
}

// leasedTask turns a lease's reply ({"page", entry, host, lease, record}
// or {"sitemap", entry, host, lease}) into a task: a skip when robots.txt
// disallows the page (the lease's slot is freed without a request). An
// entry that cannot be read is completed as failed and set aside
// (corrupt), and false is returned.
func (s *sharedRun) leasedTask(ctx context.Context, res []any) (task, bool) {
	raw, host, lease := res[1].(string), res[2].(string), res[3].(string)
	s.hold(lease)
	t := task{kind: taskPage, host: &hostState{key: host}, lease: lease}
	var e sharedEntry
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		s.dropCorrupt(ctx, lease, raw, err)
		return task{}, false
	}
	if res[0] == "sitemap" {
		t.kind, t.url, t.nested = taskSitemap, e.URL, e.Sitemap == nestedSitemap
		return t, true
	}
	t.e = &e.entry
	if rec, _ := res[4].(string); rec != "" {
		t.prev = &urlRecord{}
		if err := json.Unmarshal([]byte(rec), t.prev); err != nil {
			s.c.log.Warn("unreadable page record in the shared frontier; fetching without it", "url", e.URL, "error", err)
			t.prev = nil
		}
	}
	r, err := s.hostRobots(ctx, host)
	if err != nil {
		return t, true // fetched anyway: colly's own check still applies
	}
	if reason := (&hostState{robots: r}).skipReason(e.URL); reason != "" {
		s.release(t, 0, true)
		t.kind, t.reason = taskSkip, reason
	}
	return t, true
}

func (s *sharedRun) requestDone(t task, gotResponse bool, retryAfter time.Duration) {
	if t.kind == taskPage || t.kind == taskSitemap {
		s.release(t, retryAfter, false)
		if gotResponse && t.kind == taskPage {
			s.mu.Lock()
			s.fetched++
			s.mu.Unlock()
		}
	}
}

// release frees a page's or sitemap's lease's slot on its host.
func (s *sharedRun) release(t task, retryAfter time.Duration, noRequest bool) {
	ctx := context.Background()
	noReq := "0"
	if noRequest {
		noReq = "1"
	}
	wait := min(retryAfter, s.c.opts.MaxCrawlDelay*5)
	err := withRetry(ctx, s.c.log, "free a host's slot", func() error {
		return releaseScript.Run(ctx, s.f.rdb, nil, s.f.prefix, s.worker, t.lease, nowMS(), wait.Milliseconds(), noReq).Err()
	})
	if err != nil {
		s.c.log.Warn("free a host's slot", "lease", t.lease, "error", err)
	}
}

// finish is a no-op: an abandoned task's lease is given back when the
// worker stops.
func (s *sharedRun) finish(int) {}

// admitSeeds queues the worker's seeds (the job's, for its first worker).
func (s *sharedRun) admitSeeds(ctx context.Context) error {
	var args []any
	for _, u := range s.c.scope.seeds {
		args = s.admitArgs(args, u, 0, 0, false)
	}
	return withRetry(ctx, s.c.log, "queue the seeds", func() error {
		return admitScript.Run(ctx, s.f.rdb, nil, append([]any{s.f.prefix, nowMS()}, args...)...).Err()
	})
}

// admitArgs appends a URL's arguments for admitScript, with the reason it
// is out of scope, if it is.
func (s *sharedRun) admitArgs(args []any, u string, depth, redirects int, patterns bool) []any {
	reason := s.c.scope.admission(u, depth, patterns)
	host := hostOf(u)
	e, _ := json.Marshal(entry{URL: u, Depth: depth, Redirects: redirects})
	return append(args, u, host, reason, string(e),
		s.c.opts.hostDelay(host).Milliseconds(), s.c.opts.hostParallelism(host))
}
