package crawler

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func testFrontier(budget int, delay time.Duration, parallel int) *frontier {
	return newFrontier(budget, func(string) time.Duration { return delay }, func(string) int { return parallel }, time.Minute, true)
}

func entries(n int) []*entry {
	var es []*entry
	for i := range n {
		es = append(es, &entry{URL: fmt.Sprintf("http://a.example/%d", i), seq: uint64(i + 1)})
	}
	return es
}

// nextWithin returns the next task or fails when none comes within d.
func nextWithin(t *testing.T, f *frontier, d time.Duration) (task, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	return f.next(ctx)
}

// TestFrontierReadsRobotsFirstAndSpacesRequests checks the spacing on the
// frontier's own schedule (the time it decided each start by): the times
// the test sees next return are later by however long the test goroutine
// waited for a CPU, so under load they can come closer together than the
// schedule they follow.
func TestFrontierReadsRobotsFirstAndSpacesRequests(t *testing.T) {
	const delay = 60 * time.Millisecond
	f := testFrontier(10, delay, 1)
	var starts []time.Time
	f.started = func(_ string, at time.Time) { starts = append(starts, at) } // under f.mu
	f.push(entries(3)...)
	robots, ok := nextWithin(t, f, time.Second)
	if !ok || robots.kind != taskRobots {
		t.Fatalf("first task %v, want robots.txt", robots.kind)
	}
	if _, ok := nextWithin(t, f, 30*time.Millisecond); ok {
		t.Fatal("a page was handed out before robots.txt was read")
	}
	f.robotsRead(robots.host, &robotsRules{}, nil)
	for range 3 {
		p, ok := nextWithin(t, f, time.Second)
		if !ok || p.kind != taskPage {
			t.Fatalf("task %v %v, want a page", p.kind, ok)
		}
		if _, ok := nextWithin(t, f, 20*time.Millisecond); ok {
			t.Fatal("two requests in flight to a host allowed one")
		}
		f.requestDone(p, true, 0)
		f.finish(1)
	}
	if _, ok := nextWithin(t, f, time.Second); ok {
		t.Error("the frontier is empty and nothing is outstanding, but next did not end the crawl")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(starts) != 4 {
		t.Fatalf("%d request starts recorded, want robots.txt and 3 pages", len(starts))
	}
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < delay {
			t.Errorf("requests %d and %d allowed %v apart, want at least %v", i-1, i, gap, delay)
		}
	}
}

func TestFrontierBudgetAndSkips(t *testing.T) {
	f := testFrontier(2, 0, 4)
	f.push(entries(5)...)
	robots, _ := nextWithin(t, f, time.Second)
	f.robotsRead(robots.host, &robotsRules{blocked: ""}, nil)
	var pages []task
	for range 2 {
		p, ok := nextWithin(t, f, time.Second)
		if !ok || p.kind != taskPage {
			t.Fatalf("task %v %v, want a page", p.kind, ok)
		}
		pages = append(pages, p)
	}
	if _, ok := nextWithin(t, f, 30*time.Millisecond); ok {
		t.Fatal("a third page was handed out with a budget of two")
	}
	f.requestDone(pages[0], false, 0) // no response: the budget comes back
	f.finish(1)
	p, ok := nextWithin(t, f, time.Second)
	if !ok || p.kind != taskPage {
		t.Fatal("a fetch without a response did not give its budget back")
	}
	f.requestDone(pages[1], true, 0)
	f.requestDone(p, true, 0)
	f.finish(2)
	if _, ok := nextWithin(t, f, time.Second); ok {
		t.Error("budget spent and nothing outstanding, but next did not end the crawl")
	}
	if queued, spent := f.stats(); queued != 2 || !spent {
		t.Errorf("stats: %d queued, spent %v; want 2 left and the budget spent", queued, spent)
	}
}

func TestFrontierSkipsDisallowedWithoutRequests(t *testing.T) {
	f := testFrontier(10, time.Hour, 1)
	f.push(entries(3)...)
	robots, _ := nextWithin(t, f, time.Second)
	f.robotsRead(robots.host, &robotsRules{blocked: "robots_unavailable"}, nil)
	for range 3 { // an hour's delay does not hold back URLs that need no request
		s, ok := nextWithin(t, f, time.Second)
		if !ok || s.kind != taskSkip || s.reason != "robots_unavailable" {
			t.Fatalf("task %v %q, want a skip for robots_unavailable", s.kind, s.reason)
		}
	}
}

func TestSitemapsPerHostLimit(t *testing.T) {
	h := &hostState{}
	n := 0
	urls := make([]string, 3*maxSitemapsPerHost)
	h.queueSitemaps(urls, false, &n)
	h.queueSitemaps(urls, true, &n)
	if len(h.sitemaps) != maxSitemapsPerHost || n != maxSitemapsPerHost {
		t.Errorf("%d sitemaps queued (%d outstanding), want %d", len(h.sitemaps), n, maxSitemapsPerHost)
	}
}
