package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// crawlSite serves three linked pages on loopback.
func crawlSite(t *testing.T) *httptest.Server {
	pages := map[string]string{
		"/":           `<a href="/tides">tides</a> <a href="/glaciers">glaciers</a>`,
		"/tides":      `The tides rise and fall twice a day as the moon pulls on the oceans of the earth.`,
		"/glaciers":   `Glaciers are slow rivers of ice that carve valleys into mountains over thousands of years.`,
		"/robots.txt": "",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.URL.Path == "/robots.txt" {
			return
		}
		fmt.Fprintf(w, "<html><head><title>Page %s</title></head><body><main><p>%s</p></main></body></html>", r.URL.Path, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func crawlingServer(t *testing.T, allowPrivate bool) *testServer {
	return startServer(t, serverSetup{opts: func(o *Options) {
		o.Crawl = CrawlOptions{
			StateDir:         t.TempDir(),
			AllowPrivate:     allowPrivate,
			Contact:          "https://example.org/bot",
			MinHostDelay:     -1,
			DefaultHostDelay: -1,
			ProgressInterval: 20 * time.Millisecond,
		}
	}})
}

// runCrawl calls Crawl and returns every progress message.
func runCrawl(t *testing.T, c cariv1.IndexServiceClient, req *cariv1.CrawlRequest) ([]*cariv1.CrawlProgress, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	stream, err := c.Crawl(ctx, req)
	if err != nil {
		return nil, err
	}
	var msgs []*cariv1.CrawlProgress
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return msgs, nil
		}
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, m)
	}
}

func TestCrawlRPC(t *testing.T) {
	site := crawlSite(t)
	ts := crawlingServer(t, true)
	msgs, err := runCrawl(t, ts.index(), &cariv1.CrawlRequest{Seeds: []string{site.URL + "/"}, AllowPrivate: true})
	if err != nil {
		t.Fatalf("Crawl: %v", err)
	}
	last := msgs[len(msgs)-1]
	if !last.GetDone() || last.GetSummary().GetStopReason() != cariv1.CrawlStopReason_CRAWL_STOP_REASON_FRONTIER_EMPTY {
		t.Fatalf("last message %v, want done with frontier_empty", last)
	}
	if last.GetFetched() != 3 || last.GetIndexed() != 3 || last.GetSummary().GetHosts() != 1 || last.GetCrawlId() == "" {
		t.Errorf("last message %v, want 3 fetched and indexed from 1 host", last)
	}
	for _, m := range msgs[:len(msgs)-1] {
		if m.GetDone() || m.GetCrawlId() != last.GetCrawlId() {
			t.Errorf("progress message %v: done before the end, or another crawl id", m)
		}
	}
	resp, err := ts.search().Search(t.Context(), &cariv1.SearchRequest{Query: "glaciers carve valleys", Type: cariv1.SearchType_SEARCH_TYPE_KEYWORD})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetResults()) == 0 || resp.GetResults()[0].GetUrl() != site.URL+"/glaciers" {
		t.Errorf("search after the crawl: %v, want the glaciers page first", resp.GetResults())
	}
}

func TestCrawlRPCRefusals(t *testing.T) {
	site := crawlSite(t)
	ts := crawlingServer(t, false)
	c := ts.index()
	seed := []string{site.URL + "/"}
	for _, tc := range []struct {
		name  string
		req   *cariv1.CrawlRequest
		code  codes.Code
		field string
	}{
		{"no seeds", &cariv1.CrawlRequest{}, codes.InvalidArgument, "seeds"},
		{"relative seed", &cariv1.CrawlRequest{Seeds: []string{"/x"}}, codes.InvalidArgument, "seeds[0]"},
		{"max pages", &cariv1.CrawlRequest{Seeds: seed, MaxPages: -1}, codes.InvalidArgument, "max_pages"},
		{"max depth", &cariv1.CrawlRequest{Seeds: seed, MaxDepth: proto.Int32(101)}, codes.InvalidArgument, "max_depth"},
		{"pattern", &cariv1.CrawlRequest{Seeds: seed, IncludeUrlPatterns: []string{"("}}, codes.InvalidArgument, "include_url_patterns[0]"},
		{"domain", &cariv1.CrawlRequest{Seeds: seed, AllowedDomains: []string{"http://x.example/"}}, codes.InvalidArgument, "allowed_domains[0]"},
		{"delay", &cariv1.CrawlRequest{Seeds: seed, MinHostDelay: durationpb.New(2 * time.Minute)}, codes.InvalidArgument, "min_host_delay"},
		{"private", &cariv1.CrawlRequest{Seeds: seed, AllowPrivate: true}, codes.PermissionDenied, ""},
	} {
		_, err := runCrawl(t, c, tc.req)
		st := status.Convert(err)
		if st.Code() != tc.code || !strings.HasPrefix(st.Message(), tc.field) {
			t.Errorf("%s: %v %q, want %v naming %q", tc.name, st.Code(), st.Message(), tc.code, tc.field)
		}
	}

	// Without allow_private a loopback seed is skipped, not fetched.
	msgs, err := runCrawl(t, c, &cariv1.CrawlRequest{Seeds: seed})
	if err != nil {
		t.Fatal(err)
	}
	last := msgs[len(msgs)-1]
	if last.GetFetched() != 0 || last.GetSkipped()["private_address"] != 1 || !last.GetDone() {
		t.Errorf("loopback seed without allow_private: %v, want it skipped as private_address", last)
	}

	off := startServer(t, serverSetup{})
	if _, err := runCrawl(t, off.index(), &cariv1.CrawlRequest{Seeds: seed}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("server without crawl state: %v, want FAILED_PRECONDITION", err)
	}
}
