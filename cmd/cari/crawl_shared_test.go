package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/cari-search/cari/internal/redistest"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// sharedAdminKey is the admin key of the cari serve the shared crawls
// index into; the workers send it from $CARI_API_KEY.
const sharedAdminKey = "shared-crawl-admin-key-0123456789"

// inflight counts a server's requests in flight and the most it ever had.
type inflight struct {
	mu       sync.Mutex
	now, max int
}

func (c *inflight) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.now++
		c.max = max(c.max, c.now)
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.now--
			c.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}

func (c *inflight) most() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.max
}

// servePythonDocsCounted serves the Python documentation with every
// answer 20 ms late, counting requests by path (the access log) and in
// flight.
func servePythonDocsCounted(tb testing.TB) (*site, *inflight) {
	tb.Helper()
	if _, err := os.Stat(filepath.Join(pythonDocs, "index.html")); err != nil {
		tb.Skipf("%s is not there (%v): apt-get install python3.11-doc", pythonDocs, err)
	}
	var inf inflight
	return serveSite(tb, inf.wrap(docsHandler(pythonDocs, 20*time.Millisecond))), &inf
}

// crawlWorker is one cari crawl process of a shared job.
type crawlWorker struct {
	cmd         *exec.Cmd
	out, errOut bytes.Buffer
	done        chan struct{}
	err         error
}

// startCrawlWorkers starts n workers of job, indexing into the cari serve
// at indexAddr, with the same command line.
func startCrawlWorkers(tb testing.TB, n int, redisURL, job, indexAddr string, args ...string) []*crawlWorker {
	tb.Helper()
	var ws []*crawlWorker
	for range n {
		w := &crawlWorker{done: make(chan struct{})}
		w.cmd = exec.Command(cariBinary(tb), append([]string{"crawl", "--frontier", redisURL, "--job", job,
			"--allow-private", "--max-pages", "2000", "--index-addr", indexAddr, "--json", "--log-level", "warn"}, args...)...)
		w.cmd.Env = append(cariEnv(), "CARI_API_KEY="+sharedAdminKey)
		w.cmd.Stdout, w.cmd.Stderr = &w.out, &w.errOut
		if err := w.cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		go func() { w.err = w.cmd.Wait(); close(w.done) }()
		tb.Cleanup(func() {
			_ = w.cmd.Process.Kill()
			<-w.done
		})
		ws = append(ws, w)
	}
	return ws
}

// wait waits for the worker and returns its summary, failing the test
// when it did not exit 0 within timeout.
func (w *crawlWorker) wait(tb testing.TB, timeout time.Duration) crawlSummary {
	tb.Helper()
	select {
	case <-w.done:
	case <-time.After(hangGuard(tb, timeout)):
		tb.Fatalf("cari crawl worker still running after %v; stderr:\n%s", timeout, w.errOut.String())
	}
	if w.err != nil {
		tb.Fatalf("cari crawl worker: %v; stderr:\n%s", w.err, w.errOut.String())
	}
	var sum crawlSummary
	if err := json.Unmarshal(w.out.Bytes(), &sum); err != nil {
		tb.Fatalf("cari crawl --json printed %q: %v", w.out.String(), err)
	}
	return sum
}

// indexedDocuments asks a cari serve for its number of documents.
func indexedDocuments(tb testing.TB, addr string) int64 {
	tb.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-api-key", sharedAdminKey), hangGuard(tb, 30*time.Second))
	defer cancel()
	st, err := cariv1.NewIndexServiceClient(conn).GetStats(ctx, &cariv1.GetStatsRequest{})
	if err != nil {
		tb.Fatal(err)
	}
	return st.GetDocuments()
}

// jobStatus runs cari crawl status --json.
func jobStatus(t *testing.T, redisURL, job string) (st struct {
	Done                               bool
	Fetched, Indexed, Requeued, Leased int64
}) {
	t.Helper()
	out, _ := mustCari(t, "crawl", "status", "--frontier", redisURL, "--job", job, "--json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("crawl status --json printed %q: %v", out, err)
	}
	return st
}

// TestSharedCrawlPythonDocs is the acceptance test of the shared frontier:
// three cari crawl workers of one job crawl the Python documentation
// (every answer 20 ms late) into one cari serve. At least 520 of the 530
// pages are indexed, no URL is fetched twice (the server's own count), and
// the host never has more requests in flight than its limit (4 for a
// loopback host). Then a second job is crawled with one worker killed by
// SIGKILL midway: the others complete it, and only pages of the killed
// worker's expired leases are fetched twice.
func TestSharedCrawlPythonDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the 530 pages of the Python documentation three times over; skipped with -short")
	}
	rd := redistest.Start(t, false)
	site, inf := servePythonDocsCounted(t)
	srv := startServe(t, t.TempDir(), "CARI_AUTH_ADMIN_KEYS="+sharedAdminKey)
	start := time.Now()
	ws := startCrawlWorkers(t, 3, rd.URL(0), "pydocs", srv.addr, "--seed", site.URL+"/index.html")
	var fetched int64
	for i, w := range ws {
		sum := w.wait(t, 5*time.Minute)
		t.Logf("worker %d: %+v", i, sum)
		fetched += sum.FetchedThisRun
		if !sum.Done || sum.StopReason != "frontier_empty" {
			t.Errorf("worker %d ended %+v, want done with frontier_empty", i, sum)
		}
	}
	elapsed := time.Since(start)
	site.mu.Lock()
	robots := site.hits["/robots.txt"]
	site.mu.Unlock()
	hits := site.pageHits()
	twice := 0
	for p, n := range hits {
		if n > 1 {
			twice++
			t.Errorf("%s fetched %d times, want once", p, n)
		}
	}
	docs := indexedDocuments(t, srv.addr)
	st := jobStatus(t, rd.URL(0), "pydocs")
	t.Logf("3 workers: %d pages fetched (%d by the server's count) in %v, %.0f pages/s; %d indexed; at most %d requests in flight; status %+v",
		fetched, len(hits), elapsed.Round(time.Millisecond), float64(fetched)/elapsed.Seconds(), docs, inf.most(), st)
	if docs < 520 || st.Indexed != docs || !st.Done {
		t.Errorf("%d documents indexed (the job says %d, done %v), want at least 520 of 530", docs, st.Indexed, st.Done)
	}
	if robots != 1 {
		t.Errorf("robots.txt fetched %d times, want once for all workers", robots)
	}
	if m := inf.most(); m > 4 {
		t.Errorf("the host had %d requests in flight at once; the limit is 4", m)
	}

	t.Run("one worker killed", func(t *testing.T) {
		site, _ := servePythonDocsCounted(t)
		srv := startServe(t, t.TempDir(), "CARI_AUTH_ADMIN_KEYS="+sharedAdminKey)
		ws := startCrawlWorkers(t, 3, rd.URL(0), "pydocs-kill", srv.addr, "--seed", site.URL+"/index.html", "--lease", "2s")
		killed := make(chan int, 1)
		site.setHook(func(pages int) {
			if pages == 150 {
				_ = ws[0].cmd.Process.Kill()
				killed <- pages
			}
		})
		for _, w := range ws[1:] {
			w.wait(t, 5*time.Minute)
		}
		<-killed
		<-ws[0].done
		var refetched []string
		for p, n := range site.pageHits() {
			if n > 1 {
				refetched = append(refetched, p)
			}
		}
		docs := indexedDocuments(t, srv.addr)
		st := jobStatus(t, rd.URL(0), "pydocs-kill")
		t.Logf("killed after 150 page requests: %d leases expired and requeued, %d pages fetched twice %v; %d indexed; status %+v",
			st.Requeued, len(refetched), refetched, docs, st)
		if docs < 520 || !st.Done {
			t.Errorf("%d documents indexed (done %v), want at least 520", docs, st.Done)
		}
		if int64(len(refetched)) > st.Requeued {
			t.Errorf("%d pages fetched twice, more than the %d expired leases of the killed worker", len(refetched), st.Requeued)
		}
	})
}

// BenchmarkSharedCrawl measures a shared crawl's throughput with 1, 2 and
// 3 workers side by side, into one cari serve, beside a local crawl
// (workers=0: cari crawl --data, the same pipeline with its frontier in
// bbolt and its own index) in the same run: on the Python documentation
// served on one loopback host (every answer 20 ms late; the host's limit
// of 4 requests in flight bounds it at 200 pages/s), and on three such
// hosts. Each sub-benchmark crawls once:
//
//	go test ./cmd/cari -run '^$' -bench SharedCrawl -benchtime 1x
func BenchmarkSharedCrawl(b *testing.B) {
	rd := redistest.Start(b, false)
	srv := startServe(b, b.TempDir(), "CARI_AUTH_ADMIN_KEYS="+sharedAdminKey)
	for _, hosts := range []int{1, 3} {
		for _, workers := range []int{0, 1, 2, 3} {
			b.Run(fmt.Sprintf("hosts=%d/workers=%d", hosts, workers), func(b *testing.B) {
				for i := range b.N {
					var seeds []string
					for range hosts {
						site, _ := servePythonDocsCounted(b)
						seeds = append(seeds, "--seed", site.URL+"/index.html")
					}
					start := time.Now()
					var fetched int64
					if workers == 0 {
						cmd := exec.Command(cariBinary(b), append([]string{"crawl", "--data", b.TempDir(), "--allow-private", "--max-pages", "2000", "--json", "--log-level", "warn"}, seeds...)...)
						cmd.Env = cariEnv()
						out, err := cmd.Output()
						var sum crawlSummary
						if err != nil || json.Unmarshal(out, &sum) != nil {
							b.Fatalf("local crawl: %v: %s", err, out)
						}
						fetched = sum.FetchedThisRun
					}
					job := fmt.Sprintf("bench-%d-%d-%d", hosts, workers, i)
					for _, w := range startCrawlWorkers(b, workers, rd.URL(0), job, srv.addr, seeds...) {
						fetched += w.wait(b, 10*time.Minute).FetchedThisRun
					}
					b.ReportMetric(float64(fetched)/time.Since(start).Seconds(), "pages/s")
					b.ReportMetric(float64(fetched), "pages")
				}
			})
		}
	}
}
