package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestCrawlCommandReachesNoPrivateAddress runs cari crawl on a hub on
// 127.0.0.1, allowed with --allow-network 127.0.0.0/8, whose page links and
// redirects to the cloud metadata addresses, private and unique-local
// addresses, and IPv6 loopback (not allowed), where a listener counts
// connections. Only the hub is fetched. --allow-private is what lifts the
// guard: then the IPv6 loopback page is fetched.
func TestCrawlCommandReachesNoPrivateAddress(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	var v6accepted atomic.Int32
	v6 := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			fmt.Fprint(w, "<html><title>Inside</title><body><main><p>A page on IPv6 loopback, for --allow-private only.</p></main></body></html>")
		}
	}))
	v6.Listener.Close()
	v6.Listener = l
	v6.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			v6accepted.Add(1)
		}
	}
	v6.Start()
	defer v6.Close()
	targets := []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://[fd00:ec2::254]/latest/meta-data/",
		"http://10.0.0.1/",
		"http://[fc00::1]/",
		"http://[fe80::1]/",
		v6.URL + "/",
	}
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
		case r.URL.Path == "/":
			var b strings.Builder
			b.WriteString("<html><title>Hub</title><body><main><p>Links to addresses a crawler must not reach.</p>")
			for i, u := range targets {
				fmt.Fprintf(&b, `<a href="%s">direct %d</a> <a href="/r/%d">redirect %d</a>`, u, i, i, i)
			}
			fmt.Fprint(w, b.String()+"</main></body></html>")
		case strings.HasPrefix(r.URL.Path, "/r/"):
			var i int
			fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/r/"), &i)
			http.Redirect(w, r, targets[i], http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer hub.Close()
	var domains []string
	for _, d := range []string{"127.0.0.1", "::1", "169.254.169.254", "fd00:ec2::254", "10.0.0.1", "fc00::1", "fe80::1"} {
		domains = append(domains, "--allowed-domain", d)
	}
	args := func(extra ...string) []string {
		return append(append([]string{"--data", t.TempDir(), "--seed", hub.URL + "/", "--embedder", "none", "--delay", "0s"}, domains...), extra...)
	}

	sum := crawlCari(t, time.Minute, args("--allow-network", "127.0.0.0/8", "--max-depth", "3")...)
	if n := sum.Skipped["private_address"] + sum.Errors["private_address"]; n < int64(len(targets)) || sum.Indexed != 1 {
		t.Errorf("summary %+v: want only the hub indexed and all %d targets refused as private_address", sum, len(targets))
	}
	if n := v6accepted.Load(); n != 0 {
		t.Errorf("the IPv6 loopback server accepted %d connections", n)
	}

	open := crawlCari(t, time.Minute, "--data", t.TempDir(), "--seed", v6.URL+"/", "--embedder", "none", "--allow-private", "--max-depth", "0")
	if v6accepted.Load() == 0 || open.Indexed != 1 {
		t.Errorf("with --allow-private: %+v, %d connections to IPv6 loopback; want its page fetched", open, v6accepted.Load())
	}
}
