package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/internal/texttest"
)

// liveSite is a small site for live fetches: a page, a redirect to it, a
// page robots.txt forbids, a noindex page, a 404, a 500 and a page that
// never answers.
func liveSite(t *testing.T, robotsReads *atomic.Int32) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		robotsReads.Add(1)
		fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
	})
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<html><head><title>Live page</title></head><body><main><p>%s</p>
			<a href="/other">other</a><img src="/pic.png"></main></body></html>`, texttest.Words(3, 60))
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/page", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop?again=1", http.StatusFound) })
	mux.HandleFunc("/to-private", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/private", http.StatusFound) })
	mux.HandleFunc("/private", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<p>secret</p>") })
	mux.HandleFunc("/noindex", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><head><meta name="robots" content="noindex"></head><body><p>hidden</p></body></html>`)
	})
	mux.HandleFunc("/gone", http.NotFound)
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func newTestLive(t *testing.T, o Options) *Live {
	loopbackOnly(t, &o)
	o.HostDelay = -1
	return NewLive(o)
}

func TestLiveFetch(t *testing.T) {
	var robotsReads atomic.Int32
	srv := liveSite(t, &robotsReads)
	l := newTestLive(t, Options{MaxRedirects: 3})
	ctx := t.Context()

	p, err := l.Fetch(ctx, srv.URL+"/moved")
	if err != nil {
		t.Fatal(err)
	}
	d := p.Document
	if d.URL != srv.URL+"/page" || d.ID != cari.DocumentID(d.URL) || p.Requested != srv.URL+"/moved" {
		t.Errorf("url %q id %q requested %q: want the redirect's target, its ID, and the URL asked for", d.URL, d.ID, p.Requested)
	}
	if d.Title != "Live page" || !strings.Contains(d.Text, texttest.Words(3, 5)) || d.ContentHash != cari.ContentHash(d.Text) || d.Crawled.IsZero() {
		t.Errorf("document %+v: want the extracted page with its hash and crawl time", d)
	}
	if !slices.Equal(p.Links, []string{srv.URL + "/other"}) || !slices.Equal(p.ImageLinks, []string{srv.URL + "/pic.png"}) {
		t.Errorf("links %q images %q", p.Links, p.ImageLinks)
	}
	if _, err := l.Fetch(ctx, srv.URL+"/page"); err != nil {
		t.Fatal(err)
	}
	if n := robotsReads.Load(); n != 1 {
		t.Errorf("robots.txt read %d times for three fetches of one host; want once", n)
	}

	for _, tc := range []struct {
		path, reason string
		status       int
	}{
		{"/private", "robots", 0},
		{"/to-private", "robots", 0}, // a redirect's target is checked too
		{"/noindex", "noindex", 200},
		{"/gone", "http_4xx", 404},
		{"/broken", "http_5xx", 502},
		{"/loop", "too_many_redirects", 302},
	} {
		_, err := l.Fetch(ctx, srv.URL+tc.path)
		var le *LiveError
		if !errors.As(err, &le) || le.Reason != tc.reason || le.Status != tc.status {
			t.Errorf("%s: error %v, want reason %q status %d", tc.path, err, tc.reason, tc.status)
		}
	}
	var le *LiveError
	if _, err := l.Fetch(ctx, "ftp://example.org/x"); !errors.As(err, &le) || le.Reason != "unsupported_url" {
		t.Errorf("ftp URL: %v, want unsupported_url", err)
	}
}

// TestLiveFetchGuard: without the test's loopback allowance a live fetch
// refuses loopback as a crawl does, for IP literals and names alike.
func TestLiveFetchGuard(t *testing.T) {
	var robotsReads atomic.Int32
	srv := liveSite(t, &robotsReads)
	l := NewLive(Options{})
	for _, u := range []string{srv.URL + "/page", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/page"} {
		_, err := l.Fetch(t.Context(), u)
		var le *LiveError
		if !errors.As(err, &le) || (le.Reason != "private_address" && le.Reason != "robots") {
			t.Errorf("%s: %v, want it refused as a private address", u, err)
		}
	}
	if n := robotsReads.Load(); n != 0 {
		t.Errorf("the site was reached %d times", n)
	}
}

func TestLiveFetchTimeout(t *testing.T) {
	var robotsReads atomic.Int32
	srv := liveSite(t, &robotsReads)
	l := newTestLive(t, Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := l.Fetch(ctx, srv.URL+"/slow")
	var le *LiveError
	if !errors.As(err, &le) || le.Reason != "timeout" {
		t.Errorf("error %v, want a timeout", err)
	}
}

// TestLivePoliteness: requests to one host start HostDelay apart however
// many callers ask at once, and a turn past the caller's deadline is
// refused at once instead of waited for.
func TestLivePoliteness(t *testing.T) {
	var robotsReads atomic.Int32
	srv := liveSite(t, &robotsReads)
	o := Options{HostDelay: 50 * time.Millisecond}
	loopbackOnly(t, &o)
	var mu sync.Mutex
	var starts []time.Time
	o.scheduled = func(_ string, at time.Time) {
		mu.Lock()
		starts = append(starts, at)
		mu.Unlock()
	}
	l := NewLive(o)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, err := l.Fetch(t.Context(), srv.URL+"/page"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	if len(starts) != 3 {
		t.Fatalf("%d requests scheduled, want 3", len(starts))
	}
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < 50*time.Millisecond {
			t.Errorf("requests %d and %d started %s apart; want the 50ms host delay", i-1, i, gap)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	l.mu.Lock()
	l.hosts[hostOf(srv.URL)].next = time.Now().Add(time.Hour)
	l.mu.Unlock()
	start := time.Now()
	if _, err := l.acquire(ctx, hostOf(srv.URL), 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("turn an hour away: %v, want DeadlineExceeded", err)
	}
	if time.Since(start) > time.Second {
		t.Error("a turn past the deadline was waited for")
	}
}

// TestLiveForgetsIdleHosts: an idle host's record and robots.txt are
// dropped, so that a server fetching from many hosts does not keep them
// all.
func TestLiveForgetsIdleHosts(t *testing.T) {
	var robotsReads atomic.Int32
	srv := liveSite(t, &robotsReads)
	l := newTestLive(t, Options{})
	if _, err := l.Fetch(t.Context(), srv.URL+"/page"); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.forgetIdle()
	n := len(l.hosts)
	l.mu.Unlock()
	l.c.robots.mu.Lock()
	cached := len(l.c.robots.m)
	l.c.robots.mu.Unlock()
	if n != 0 || cached != 0 {
		t.Errorf("%d hosts and %d robots.txt kept after forgetting idle hosts; want none", n, cached)
	}
	if _, err := l.Fetch(t.Context(), srv.URL+"/page"); err != nil || robotsReads.Load() != 2 {
		t.Errorf("fetch after forgetting: %v, robots.txt read %d times; want it read again", err, robotsReads.Load())
	}
}
