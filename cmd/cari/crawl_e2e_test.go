package main

// End-to-end tests of cari crawl: the real binary against sites served on
// loopback by the test itself.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
)

// site serves a handler on loopback and counts the requests for every
// path; hook, when set, is called with the number of page requests
// (robots.txt and sitemap.xml are not pages) so far.
type site struct {
	*httptest.Server
	n     int // pages, for sites that know
	mu    sync.Mutex
	hits  map[string]int
	pages int
	hook  func(pages int)
}

func serveSite(t testing.TB, h http.Handler) *site {
	s := &site{hits: make(map[string]int)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		hook := s.hook
		isPage := r.URL.Path != "/robots.txt" && r.URL.Path != "/sitemap.xml"
		if isPage {
			s.pages++
		}
		pages := s.pages
		s.mu.Unlock()
		if hook != nil && isPage {
			hook(pages)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *site) setHook(h func(int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
}

// pageHits returns the page requests by path since the last call.
func (s *site) pageHits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int)
	for p, n := range s.hits {
		if p != "/robots.txt" && p != "/sitemap.xml" {
			out[p] = n
		}
	}
	s.hits = make(map[string]int)
	s.pages = 0
	return out
}

// newTreeSite serves n pages, page i linking to pages 2i and 2i+1, each
// with its own text, every answer delayed by latency.
func newTreeSite(t *testing.T, n int, latency time.Duration) *site {
	s := serveSite(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency)
		var i int
		if _, err := fmt.Sscanf(r.URL.Path, "/p/%d", &i); err != nil || i < 1 || i > n {
			http.NotFound(w, r)
			return
		}
		var links strings.Builder
		for _, c := range []int{2 * i, 2*i + 1} {
			if c <= n {
				fmt.Fprintf(&links, `<li><a href="/p/%d">page %d</a></li>`, c, c)
			}
		}
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><head><title>Page %d</title></head><body>
<nav><a href="/p/1">Home</a></nav><main><h1>Page %d</h1><p>%s</p><ul>%s</ul></main></body></html>`,
			i, i, pageWords(i), links.String())
	}))
	s.n = n
	return s
}

// pageWords is text unique to page i.
func pageWords(i int) string {
	vocab := strings.Fields("amber basalt cedar delta ember fjord granite harbor inlet juniper kelp lagoon mesa nettle onyx prairie quarry reef savanna tundra")
	var b strings.Builder
	x := uint32(i*2654435761 + 1)
	for k := range 120 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		if k > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vocab[x%uint32(len(vocab))])
	}
	return fmt.Sprintf("Page number %d is about %s", i, b.String())
}

func (s *site) treeURLs() []string {
	out := make([]string, s.n)
	for i := range s.n {
		out[i] = fmt.Sprintf("%s/p/%d", s.URL, i+1)
	}
	return out
}

// crawlCari runs cari crawl with --json to completion and returns its summary.
func crawlCari(t *testing.T, timeout time.Duration, args ...string) crawlSummary {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, timeout))
	defer cancel()
	cmd := exec.CommandContext(ctx, cariBinary(t), append([]string{"crawl", "--json"}, args...)...)
	cmd.Env = cariEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("cari crawl %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errOut.String())
	}
	var sum crawlSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("cari crawl --json printed %q: %v", out.String(), err)
	}
	return sum
}

// storedIDs opens a data directory and returns the document IDs of urls
// that it holds.
func storedIDs(t *testing.T, data string, urls []string) map[string]string {
	t.Helper()
	st, err := local.Open(catalog.Dir(data, catalog.Default), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids, err := st.IDsForURLs(t.Context(), urls)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestCrawlCommand(t *testing.T) {
	site := newTreeSite(t, 20, 0)
	data := t.TempDir()
	sum := crawlCari(t, time.Minute, "--data", data, "--seed", site.URL+"/p/1", "--allow-private", "--embedder", "none", "--max-depth", "10")
	if sum.Fetched != 20 || sum.Indexed != 20 || !sum.Done || sum.StopReason != "frontier_empty" {
		t.Errorf("summary %+v, want 20 fetched and indexed, done, frontier_empty", sum)
	}
	if sum.Skipped == nil || sum.Errors == nil {
		t.Errorf("summary %+v lacks the skipped and errors objects", sum)
	}
	if docs, _ := stats(t, data); docs != 20 {
		t.Errorf("stats: %d documents, want 20", docs)
	}
	if n := len(storedIDs(t, data, site.treeURLs())); n != 20 {
		t.Errorf("%d of the site's 20 URLs stored", n)
	}

	// Limits: two pages, or the seed alone.
	limited := crawlCari(t, time.Minute, "--data", t.TempDir(), "--seed", site.URL+"/p/1", "--allow-private", "--embedder", "none", "--max-pages", "2")
	if limited.Fetched != 2 || limited.StopReason != "max_pages" || limited.Skipped["max_pages"] == 0 {
		t.Errorf("--max-pages 2: %+v, want 2 fetched, stopped by max_pages", limited)
	}
	seedOnly := crawlCari(t, time.Minute, "--data", t.TempDir(), "--seed", site.URL+"/p/1", "--allow-private", "--embedder", "none", "--max-depth", "0")
	if seedOnly.Fetched != 1 || seedOnly.Skipped["depth"] != 2 {
		t.Errorf("--max-depth 0: %+v, want the seed alone and its 2 links skipped for depth", seedOnly)
	}
}

func TestCrawlRefusesLoopbackSeed(t *testing.T) {
	site := newTreeSite(t, 3, 0)
	_, errOut, err := runCari(t, "crawl", "--data", t.TempDir(), "--seed", site.URL+"/p/1")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("crawl of a loopback seed without --allow-private: %v, want a non-zero exit", err)
	}
	for _, want := range []string{"refused", "127.0.0.1 is a loopback address", "--allow-private"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q does not say %q", errOut, want)
		}
	}
	if hits := site.pageHits(); len(hits) != 0 {
		t.Errorf("the refused crawl still asked for %v", hits)
	}
}

// TestCrawlKilledAndResumed kills cari crawl with SIGKILL midway, runs it
// again, and checks that the index ends up with the same pages as an
// uninterrupted crawl, and that no page the first run had finished is
// fetched again: exactly the fetches the first run had not committed are
// repeated.
func TestCrawlKilledAndResumed(t *testing.T) {
	const pages = 300
	site := newTreeSite(t, pages, 2*time.Millisecond)
	checkKillAndResume(t, site, site.treeURLs(), 120, "--seed", site.URL+"/p/1", "--max-depth", "20")
}

// checkKillAndResume crawls site once without interruption and once killed
// after killAfter page requests and resumed, and compares.
func checkKillAndResume(t *testing.T, site *site, urls []string, killAfter int, args ...string) {
	t.Helper()
	args = append(args, "--allow-private", "--embedder", "none")
	whole := t.TempDir()
	ref := crawlCari(t, 5*time.Minute, append([]string{"--data", whole}, args...)...)
	site.pageHits()

	data := t.TempDir()
	first := killCrawlAfter(t, site, killAfter, append([]string{"--data", data}, args...)...)
	resumed := crawlCari(t, 5*time.Minute, append([]string{"--data", data}, args...)...)
	second := site.pageHits()

	if !resumed.Resumed || !resumed.Done || resumed.Fetched != ref.Fetched || resumed.Indexed != ref.Indexed {
		t.Errorf("resumed crawl %+v; the uninterrupted one fetched %d and indexed %d", resumed, ref.Fetched, ref.Indexed)
	}
	want, got := storedIDs(t, whole, urls), storedIDs(t, data, urls)
	if !maps.Equal(got, want) || int64(len(got)) != ref.Indexed {
		t.Errorf("resumed crawl stored %d of the URLs, the uninterrupted one %d (indexed %d)", len(got), len(want), ref.Indexed)
	}

	requested := 0
	for _, n := range first {
		requested += n
	}
	committed := int(resumed.Fetched - resumed.FetchedThisRun)
	var again []string
	for p := range second {
		if first[p] > 0 {
			again = append(again, p)
		}
	}
	slices.Sort(again)
	t.Logf("killed after %d page requests, %d of them committed; the resumed run fetched %d, %d of them again: %v",
		requested, committed, resumed.FetchedThisRun, len(again), again)
	if len(again) != requested-committed {
		t.Errorf("%d pages fetched again, want exactly the %d the killed run had not committed", len(again), requested-committed)
	}
}

// killCrawlAfter starts cari crawl and SIGKILLs it once the site has
// answered n page requests. It returns the page requests of that run.
func killCrawlAfter(t *testing.T, site *site, n int, args ...string) map[string]int {
	t.Helper()
	cmd := exec.Command(cariBinary(t), append([]string{"crawl", "--json"}, args...)...)
	cmd.Env = cariEnv()
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	var proc atomic.Pointer[os.Process]
	killed := make(chan struct{})
	var once sync.Once
	site.setHook(func(pages int) {
		if p := proc.Load(); p != nil && pages >= n {
			once.Do(func() {
				p.Signal(syscall.SIGKILL)
				close(killed)
			})
		}
	})
	defer site.setHook(nil)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	proc.Store(cmd.Process)
	err := cmd.Wait()
	select {
	case <-killed:
	default:
		t.Fatalf("cari crawl ended before it was killed: %v\nstderr:\n%s", err, errOut.String())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("cari crawl: %v, want it killed by SIGKILL", err)
	}
	return site.pageHits()
}

// TestCrawlRPCOnServe crawls through a running cari serve: IndexService.Crawl
// streams progress, and the pages are searchable when it ends.
func TestCrawlRPCOnServe(t *testing.T) {
	site := newTreeSite(t, 12, 0)
	srv := startServe(t, t.TempDir(), "--crawl-allow-private", "--crawl-contact", "https://example.org/bot",
		"--crawl-min-host-delay", "0", "--embedder", "none")
	conn, err := grpc.NewClient(srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, time.Minute))
	defer cancel()
	stream, err := cariv1.NewIndexServiceClient(conn).Crawl(ctx, &cariv1.CrawlRequest{
		Seeds: []string{site.URL + "/p/1"}, AllowPrivate: true, MaxDepth: proto.Int32(10), MinHostDelay: durationpb.New(0),
	})
	if err != nil {
		t.Fatal(err)
	}
	var last *cariv1.CrawlProgress
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Crawl stream: %v", err)
		}
		last = m
	}
	if !last.GetDone() || last.GetIndexed() != 12 {
		t.Fatalf("last progress %v, want done with 12 indexed", last)
	}
	resp, err := cariv1.NewSearchServiceClient(conn).Search(ctx, &cariv1.SearchRequest{Query: "page number 7", Type: cariv1.SearchType_SEARCH_TYPE_KEYWORD, NumResults: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetResults()) == 0 || resp.GetResults()[0].GetUrl() != site.URL+"/p/7" {
		t.Errorf("search after the crawl: %v, want /p/7 first", resp.GetResults())
	}
}
