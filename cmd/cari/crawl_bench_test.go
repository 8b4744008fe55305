package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pythonDocs is where Debian's python3.11-doc installs the Python
// documentation: 530 interlinked HTML pages, about 50 MB.
const pythonDocs = "/usr/share/doc/python3.11/html"

// serveDocs serves a directory on loopback the way a static web server
// does (a directory answers with its index.html), every answer delayed by
// latency.
func serveDocs(tb testing.TB, dir string, latency time.Duration) *site {
	tb.Helper()
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		tb.Skipf("%s is not there (%v): apt-get install python3.11-doc", dir, err)
	}
	return serveSite(tb, docsHandler(dir, latency))
}

// docsHandler answers from dir like a static web server, every answer
// delayed by latency.
func docsHandler(dir string, latency time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency)
		p := filepath.Join(dir, filepath.FromSlash(filepath.Clean("/"+r.URL.Path)))
		if strings.HasSuffix(r.URL.Path, "/") {
			p = filepath.Join(p, "index.html")
		}
		f, err := os.Open(p)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil || fi.IsDir() {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
	})
}

// crawlInProcess runs cari crawl in this process on a fresh data
// directory, with the given extra arguments, and returns its summary.
func crawlInProcess(tb testing.TB, seed, data string, args ...string) crawlSummary {
	tb.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs(append([]string{"crawl", "--log-level", "warn", "--data", data, "--seed", seed, "--allow-private", "--json"}, args...))
	if err := root.ExecuteContext(context.Background()); err != nil {
		tb.Fatalf("cari crawl: %v", err)
	}
	var sum crawlSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		tb.Fatalf("cari crawl --json printed %q: %v", out.String(), err)
	}
	return sum
}

// fetchAll fetches urls with workers goroutines and reads every body: the
// bare network and server cost of the same pages.
func fetchAll(tb testing.TB, urls []string, workers int) time.Duration {
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(urls) {
					return
				}
				resp, err := client.Get(urls[i])
				if err != nil {
					tb.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkCrawlPythonDocs measures Cari's crawl of the Python
// documentation (fetch, robots.txt, extraction, deduplication, crawl
// state, indexing: cari crawl in this process) beside two plain fetches
// of the same pages from the same server in the same run: a Go loop with
// as many connections as Cari uses for a loopback host, and wget -r when
// it is installed. CARI_CRAWL_ARGS adds cari crawl flags ("--embedder
// none"); CARI_BENCH_LATENCY delays every answer, as a remote server's
// round trip would ("20ms"). Run it from the repository root for the
// default embedding model (models/):
//
//	go test -c -o /tmp/cari.test ./cmd/cari && /tmp/cari.test -test.run XXX -test.bench CrawlPythonDocs -test.benchtime 1x -test.count 5
func BenchmarkCrawlPythonDocs(b *testing.B) {
	latency, _ := time.ParseDuration(os.Getenv("CARI_BENCH_LATENCY"))
	srv := serveDocs(b, pythonDocs, latency)
	seed := srv.URL + "/index.html"
	for b.Loop() {
		b.StopTimer()
		data := b.TempDir()
		srv.pageHits()
		b.StartTimer()
		start := time.Now()
		p := crawlInProcess(b, seed, data, strings.Fields(os.Getenv("CARI_CRAWL_ARGS"))...)
		cariTime := time.Since(start)
		b.StopTimer()
		var urls []string
		for path := range srv.pageHits() {
			urls = append(urls, srv.URL+path)
		}
		loopTime := fetchAll(b, urls, 4)
		pages := float64(p.Fetched)
		b.ReportMetric(pages/cariTime.Seconds(), "cari_pages/s")
		b.ReportMetric(float64(len(urls))/loopTime.Seconds(), "goloop_pages/s")
		b.ReportMetric((pages/cariTime.Seconds())/(float64(len(urls))/loopTime.Seconds()), "cari/goloop")
		if wget, err := exec.LookPath("wget"); err == nil {
			dir := b.TempDir()
			start := time.Now()
			cmd := exec.Command(wget, "-r", "-l", "inf", "-q", "-P", dir, seed)
			_ = cmd.Run() // wget exits 8 for the site's one 404
			wgetTime := time.Since(start)
			srv.pageHits()
			n := 0
			filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
				if err == nil && !fi.IsDir() && fi.Name() != "robots.txt" {
					n++
				}
				return nil
			})
			b.ReportMetric(float64(n)/wgetTime.Seconds(), "wget_pages/s")
			b.ReportMetric((pages/cariTime.Seconds())/(float64(n)/wgetTime.Seconds()), "cari/wget")
		}
		b.StartTimer()
	}
}

// crawlSummary is the part of cari crawl --json the tests read.
type crawlSummary struct {
	CrawlID        string           `json:"crawl_id"`
	Resumed        bool             `json:"resumed"`
	Done           bool             `json:"done"`
	StopReason     string           `json:"stop_reason"`
	Fetched        int64            `json:"fetched"`
	Indexed        int64            `json:"indexed"`
	Queued         int64            `json:"queued"`
	Skipped        map[string]int64 `json:"skipped"`
	Errors         map[string]int64 `json:"errors"`
	FetchedThisRun int64            `json:"fetched_this_run"`
	PagesPerSecond float64          `json:"pages_per_second"`
}
