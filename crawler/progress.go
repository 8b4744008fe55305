package crawler

import (
	"sync"
	"time"
)

// liveStats are the crawl's totals as committed, for Progress; the
// committer and the sink loop update them after each transaction.
type liveStats struct {
	mu             sync.Mutex
	jobID          string
	resumed        bool
	start, end     time.Time
	fetchedAtStart int64
	counters       counters
	acked          acked
	hosts          map[string]byte
	done           bool
	stop           StopReason
	// front is the crawl's frontier, for the queue length; Progress reads
	// it here because Run sets the Crawler's own field while Progress may
	// already be called.
	front *frontier
}

func (l *liveStats) init(j *loadedJob, start time.Time, front *frontier) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.front = front
	l.jobID, l.resumed, l.start = j.meta.ID, j.resumed, start
	l.fetchedAtStart = j.counters.Fetched
	l.counters = j.counters.clone()
	l.acked = j.acked
	l.hosts = make(map[string]byte, len(j.hosts))
	for h, f := range j.hosts {
		l.hosts[h] = f
	}
}

// sitemapsWanted reports whether the host's sitemaps are still to be read
// in this job.
func (l *liveStats) sitemapsWanted(host string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hosts[host]&hostSitemapsRead == 0
}

func (l *liveStats) committed(c counters, hosts map[string]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counters = c
	for h, f := range hosts {
		l.hosts[h] |= f
	}
}

func (l *liveStats) addAcked(indexed, rejected int) acked {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acked.Indexed += int64(indexed)
	l.acked.Rejected += int64(rejected)
	return l.acked
}

// stopClock fixes Elapsed at the end of Run.
func (l *liveStats) stopClock() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.end = time.Now()
}

func (l *liveStats) finished(stop StopReason) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done, l.stop = true, stop
}

// Progress returns the crawl's state now. It is safe to call while Run runs.
func (c *Crawler) Progress() Progress {
	if c.shared != nil {
		return c.shared.progress()
	}
	l := &c.live
	l.mu.Lock()
	front := l.front
	l.mu.Unlock()
	var queued int
	if front != nil {
		queued, _ = front.stats()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p := Progress{
		CrawlID:        l.jobID,
		Resumed:        l.resumed,
		Fetched:        l.counters.Fetched,
		Queued:         int64(queued),
		Indexed:        l.acked.Indexed,
		Skipped:        cloneMap(l.counters.Skipped),
		Errors:         cloneMap(l.counters.Errors),
		Retries:        l.counters.Retries,
		BytesFetched:   l.counters.Bytes,
		Hosts:          l.counters.Hosts,
		FetchedThisRun: l.counters.Fetched - l.fetchedAtStart,
		Done:           l.done,
		StopReason:     l.stop,
	}
	if l.acked.Rejected > 0 {
		p.Errors["index"] += l.acked.Rejected
	}
	switch {
	case !l.end.IsZero():
		p.Elapsed = l.end.Sub(l.start)
	case !l.start.IsZero():
		p.Elapsed = time.Since(l.start)
	}
	if s := p.Elapsed.Seconds(); s > 0 {
		p.PagesPerSecond = float64(p.FetchedThisRun) / s
	}
	return p
}
