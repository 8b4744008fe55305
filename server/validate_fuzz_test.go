package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// checkAnswer fails unless err is nil or INVALID_ARGUMENT with a
// BadRequest detail naming the field: a request the server cannot serve
// must say which field is wrong, never answer INTERNAL.
func checkAnswer(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("%s: %v %q, want OK or INVALID_ARGUMENT", what, st.Code(), st.Message())
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 && br.GetFieldViolations()[0].GetField() != "" {
			return
		}
	}
	t.Fatalf("%s: INVALID_ARGUMENT %q names no field", what, st.Message())
}

// FuzzSearchRPC decodes arbitrary bytes as a SearchRequest and sends what
// decodes to a real server's Search over gRPC. Seeds are in
// testdata/fuzz/FuzzSearchRPC.
func FuzzSearchRPC(f *testing.F) {
	for _, req := range []*cariv1.SearchRequest{
		{Query: "whale krill", NumResults: 5},
		{Query: strings.Repeat("q", 5000)},
		{Query: "nul\x00", Type: cariv1.SearchType(99)},
		{Query: "tides", NumResults: -3, Filters: &cariv1.SearchFilters{IncludeDomains: []string{"a.example/x"}, Languages: []string{"e"}}},
		{Query: "tides", Filters: &cariv1.SearchFilters{IncludeText: []string{""}, ExcludeText: []string{strings.Repeat("x", 300)}}},
		{Query: "tides", Contents: &cariv1.ContentsOptions{Text: &cariv1.TextOptions{MaxCharacters: -1}}, RerankTopN: 1 << 30},
	} {
		b, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	ts := startServer(f, serverSetup{})
	c := ts.search()
	f.Fuzz(func(t *testing.T, b []byte) {
		var req cariv1.SearchRequest
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := c.Search(ctx, &req)
		checkAnswer(t, "Search", err)
	})
}

// FuzzUpsertRPC decodes arbitrary bytes as a Document and uploads it to a
// real server. The document is indexed or counted as failed with the field
// at fault; the stream itself never fails. Seeds are in
// testdata/fuzz/FuzzUpsertRPC.
func FuzzUpsertRPC(f *testing.F) {
	for _, d := range []*cariv1.Document{
		{Id: "a", Title: "Tides", Text: "The moon pulls the sea."},
		{Url: "https://example.com/x?utm_source=y", Text: "by URL"},
		{Id: strings.Repeat("i", 600), Text: "long id"},
		{Id: "nul\x00", Text: "x\x00y"},
		{Id: "lang", Text: "x", Language: "not a tag at all", Url: "ftp://example.com/"},
		{},
	} {
		b, err := proto.Marshal(d)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	ts := startServer(f, serverSetup{})
	c := ts.index()
	f.Fuzz(func(t *testing.T, b []byte) {
		var d cariv1.Document
		if proto.Unmarshal(b, &d) != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stream, err := c.UpsertDocuments(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&cariv1.UpsertDocumentsRequest{Document: &d}); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.CloseAndRecv()
		checkAnswer(t, "UpsertDocuments", err)
		if err != nil {
			return
		}
		if resp.GetIndexed()+resp.GetFailed() != 1 {
			t.Fatalf("response %v, want the document indexed or failed", resp)
		}
		for _, e := range resp.GetErrors() {
			if e.GetField() == "" {
				t.Fatalf("failed document without a field: %v", e)
			}
		}
	})
}

// FuzzHTTPSearch posts arbitrary bodies to the HTTP/JSON gateway's search:
// the answer is 200 or a 4xx naming what is wrong, never a 5xx. Seeds are
// in testdata/fuzz/FuzzHTTPSearch.
func FuzzHTTPSearch(f *testing.F) {
	for _, s := range []string{
		`{"query": "whale", "numResults": 3}`,
		`{"query": "\u0000"}`,
		"{\"query\": \"\xff\xfe\"}",
		`{"query": "x", "filters": {"publishedDate": {"start": "not a date"}}}`,
		`{"query": ` + strings.Repeat("[", 10000) + `}`,
		`[]`,
	} {
		f.Add(s)
	}
	ts := startServer(f, serverSetup{})
	f.Fuzz(func(t *testing.T, body string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.url+"/v1/search", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("POST /v1/search %q: %s", body, resp.Status)
		}
	})
}

// TestHostileQueries sends the queries the fuzz targets are seeded with
// over gRPC and HTTP, and expects each refused with the field named.
func TestHostileQueries(t *testing.T) {
	ts := startServer(t, serverSetup{})
	for _, c := range []struct {
		name, query, reason string
	}{
		{"huge", strings.Repeat("whale ", 100_000), "at most 10000 characters"},
		{"NUL byte", "whale\x00krill", "NUL"},
		{"empty", "   ", "must not be empty"},
	} {
		_, err := ts.search().Search(t.Context(), &cariv1.SearchRequest{Query: c.query})
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument || !strings.HasPrefix(st.Message(), "query: ") || !strings.Contains(st.Message(), c.reason) {
			t.Errorf("gRPC, %s query: %v %q, want INVALID_ARGUMENT naming query (%s)", c.name, st.Code(), st.Message(), c.reason)
		}
		body, _ := json.Marshal(map[string]string{"query": c.query})
		r := ts.do(t, "POST", "/v1/search", string(body))
		if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), "query") {
			t.Errorf("HTTP, %s query: %d %.200s, want 400 naming query", c.name, r.code, r.body)
		}
	}
	// Invalid UTF-8 cannot be put in a protobuf string: gRPC refuses the
	// message before Cari sees it, and the gateway refuses the JSON.
	r := ts.do(t, "POST", "/v1/search", "{\"query\": \"whale \xff\xfe\"}")
	if r.code != http.StatusBadRequest {
		t.Errorf("HTTP, invalid UTF-8: %d %.200s, want 400", r.code, r.body)
	}
}
