package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

func TestMetricsEndpoint(t *testing.T) {
	ts := startServer(t, serverSetup{guard: GuardOptions{MaxConcurrent: 8}})
	if _, err := ts.search().Search(t.Context(), &cariv1.SearchRequest{Query: "volcano"}); err != nil {
		t.Fatal(err)
	}
	if r := ts.do(t, "POST", "/v1/search", `{"query":"volcano"}`); r.code != 200 {
		t.Fatal(r.code)
	}
	ts.do(t, "POST", "/v1/search", `{"query":""}`)
	body := string(ts.do(t, "GET", "/metrics", "").body)
	for _, want := range []string{
		`cari_requests_total{code="OK",method="Search",service="cari.v1.SearchService",transport="grpc"} 1`,
		`cari_requests_total{code="OK",method="Search",service="cari.v1.SearchService",transport="http"} 1`,
		`cari_requests_total{code="InvalidArgument",method="Search",service="cari.v1.SearchService",transport="http"} 1`,
		`cari_request_duration_seconds_count{method="Search",service="cari.v1.SearchService",transport="http"} 2`,
		`cari_search_stage_duration_seconds_count{stage="keyword",type="keyword"} 2`,
		`cari_search_results_count 2`,
		`cari_index_documents 4`,
		`cari_index_chunks `,
		`cari_index_size_bytes `,
		`go_goroutines `,
		`cari_concurrency_limit 8`,
		`cari_concurrency_running 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestRequestLog checks the one line per request: method, transport, code,
// latency and result count.
func TestRequestLog(t *testing.T) {
	ts := startServer(t, serverSetup{})
	ts.do(t, "POST", "/v1/search", `{"query":"volcano","numResults":1}`)
	var line map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(ts.logs.String()), "\n") {
		if strings.Contains(l, "SearchService/Search") {
			if line != nil {
				t.Fatalf("more than one log line for one request:\n%s", ts.logs.String())
			}
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if line["msg"] != "request" || line["transport"] != "http" || line["code"] != "OK" || line["results"] != float64(1) || line["latency_ms"] == nil || line["request_id"] == "" {
		t.Errorf("log line %v", line)
	}
}

func TestCrawlProgressCounters(t *testing.T) {
	m := NewMetrics()
	w := m.newProgressWatcher()
	w.sent(&cariv1.CrawlProgress{Fetched: 3, Indexed: 2, Skipped: map[string]int64{"robots": 1}})
	w.sent(&cariv1.CrawlProgress{Fetched: 10, Indexed: 7, Skipped: map[string]int64{"robots": 4, "depth": 2}, Errors: map[string]int64{"timeout": 1}})
	w.sent(&cariv1.ReindexProgress{DocumentsDone: 5})
	checks := []struct {
		got  float64
		want float64
		what string
	}{
		{testutil.ToFloat64(m.crawlDocs.WithLabelValues("fetched")), 10, "fetched"},
		{testutil.ToFloat64(m.crawlDocs.WithLabelValues("indexed")), 7, "indexed"},
		{testutil.ToFloat64(m.crawlSkip.WithLabelValues("robots")), 4, "skipped robots"},
		{testutil.ToFloat64(m.crawlSkip.WithLabelValues("depth")), 2, "skipped depth"},
		{testutil.ToFloat64(m.crawlErrs.WithLabelValues("timeout")), 1, "errors timeout"},
		{testutil.ToFloat64(m.reindexed), 5, "reindexed"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}
