package main

// The gRPC half of TestEndToEnd: health, reflection, SearchService and
// IndexService called with generated clients on a running cari serve that
// holds the fixture corpus.

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cari-search/cari"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

func rpcContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, 5*time.Second))
	t.Cleanup(cancel)
	return ctx
}

func resultIDs(resp *cariv1.SearchResponse) []string {
	var ids []string
	for _, r := range resp.GetResults() {
		ids = append(ids, r.GetId())
	}
	return ids
}

// search runs a request that must succeed and returns the result IDs.
func search(t *testing.T, c cariv1.SearchServiceClient, req *cariv1.SearchRequest) []string {
	t.Helper()
	resp, err := c.Search(rpcContext(t), req)
	if err != nil {
		t.Fatalf("Search(%v): %v", req, err)
	}
	return resultIDs(resp)
}

// wantStatus checks err's code and, for INVALID_ARGUMENT, that the message
// and a google.rpc.BadRequest detail name field.
func wantStatus(t *testing.T, err error, code codes.Code, field string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("got %v %q, want %v", st.Code(), st.Message(), code)
	}
	if field == "" {
		return
	}
	if !strings.Contains(st.Message(), field) {
		t.Errorf("message %q does not name %s", st.Message(), field)
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == field {
					return
				}
			}
		}
	}
	t.Errorf("details %v have no BadRequest field violation for %s", st.Details(), field)
}

func testHealthAndReflection(t *testing.T, conn *grpc.ClientConn) {
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, 5*time.Second))
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "cari.v1.IndexService"})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health of cari.v1.IndexService: %v, %v", resp.GetStatus(), err)
	}

	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req := &reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: "*"}}
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	list, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.CloseSend()
	var names []string
	for _, s := range list.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{"cari.v1.SearchService", "cari.v1.IndexService", "grpc.health.v1.Health"} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, missing %s", names, want)
		}
	}
}

func testSearch(t *testing.T, conn *grpc.ClientConn) {
	c := cariv1.NewSearchServiceClient(conn)

	t.Run("ranks the matching document first", func(t *testing.T) {
		resp, err := c.Search(rpcContext(t), &cariv1.SearchRequest{Query: "volcano eruption magma lava", Type: cariv1.SearchType_SEARCH_TYPE_KEYWORD})
		if err != nil {
			t.Fatal(err)
		}
		if ids := resultIDs(resp); len(ids) == 0 || ids[0] != "doc02" {
			t.Errorf("results %v, want doc02 first", ids)
		}
		if got := resp.GetResolvedSearchType(); got != cariv1.SearchType_SEARCH_TYPE_KEYWORD {
			t.Errorf("resolved type %v, want KEYWORD", got)
		}
		if resp.GetResults()[0].Text != nil {
			t.Error("result carries text though contents were not asked for")
		}
	})

	t.Run("contents text is cut to max_characters", func(t *testing.T) {
		const max = 40
		resp, err := c.Search(rpcContext(t), &cariv1.SearchRequest{
			Query:    "honeybee colony queen",
			Contents: &cariv1.ContentsOptions{Text: &cariv1.TextOptions{MaxCharacters: max}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetResults()) == 0 || resp.GetResults()[0].GetId() != "doc07" {
			t.Fatalf("results %v, want doc07 first", resultIDs(resp))
		}
		got := resp.GetResults()[0].GetText()
		const full = "A honeybee colony has one queen, thousands of female workers"
		if utf8.RuneCountInString(got) != max || !strings.HasPrefix(full, got) {
			t.Errorf("text %q, want the first %d characters of %q", got, max, full)
		}
	})

	t.Run("include_domains keeps only those domains", func(t *testing.T) {
		// The corpus documents have no URL, so no domain matches them.
		ids := search(t, c, &cariv1.SearchRequest{Query: "volcano", Filters: &cariv1.SearchFilters{IncludeDomains: []string{"example.com"}}})
		if len(ids) != 0 {
			t.Errorf("results %v, want none", ids)
		}
	})

	year10000 := &timestamppb.Timestamp{Seconds: 253402300800} // 10000-01-01, past the Timestamp range
	for _, tc := range []struct {
		name  string
		req   *cariv1.SearchRequest
		code  codes.Code
		field string
	}{
		{"num_results over the limit", &cariv1.SearchRequest{Query: "volcano", NumResults: 500}, codes.InvalidArgument, "num_results"},
		{"empty query", &cariv1.SearchRequest{Query: "  "}, codes.InvalidArgument, "query"},
		{"timestamp out of range", &cariv1.SearchRequest{Query: "volcano", Filters: &cariv1.SearchFilters{
			PublishedDate: &cariv1.TimeRange{Start: year10000}}}, codes.InvalidArgument, "filters.published_date.start"},
		{"bad domain", &cariv1.SearchRequest{Query: "volcano", Filters: &cariv1.SearchFilters{
			IncludeDomains: []string{"https://example.com/"}}}, codes.InvalidArgument, "filters.include_domains[0]"},
		{"neural without a model", &cariv1.SearchRequest{Query: "volcano", Type: cariv1.SearchType_SEARCH_TYPE_NEURAL}, codes.Unavailable, ""},
		{"hybrid without a model", &cariv1.SearchRequest{Query: "volcano", Type: cariv1.SearchType_SEARCH_TYPE_HYBRID}, codes.Unavailable, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Search(rpcContext(t), tc.req)
			wantStatus(t, err, tc.code, tc.field)
		})
	}

	t.Run("find similar", func(t *testing.T) {
		resp, err := c.FindSimilar(rpcContext(t), &cariv1.FindSimilarRequest{Source: &cariv1.FindSimilarRequest_Id{Id: "doc01"}, NumResults: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.GetResults() {
			if r.GetId() == "doc01" {
				t.Error("FindSimilar returned its source")
			}
		}
		_, err = c.FindSimilar(rpcContext(t), &cariv1.FindSimilarRequest{Source: &cariv1.FindSimilarRequest_Id{Id: "no-such-doc"}})
		wantStatus(t, err, codes.NotFound, "")
	})

	t.Run("unimplemented methods", func(t *testing.T) {
		ix := cariv1.NewIndexServiceClient(conn)
		// Crawl is implemented (crawl_e2e_test.go); without a contact it
		// is refused before anything is fetched.
		crawl, err := ix.Crawl(rpcContext(t), &cariv1.CrawlRequest{Seeds: []string{"https://example.com/"}})
		if err == nil {
			_, err = crawl.Recv()
		}
		wantStatus(t, err, codes.InvalidArgument, "user_agent_contact")
		// Reindex is implemented (reindex_e2e_test.go); without a source
		// it is refused naming the field.
		reindex, err := ix.Reindex(rpcContext(t), &cariv1.ReindexRequest{})
		if err == nil {
			_, err = reindex.Recv()
		}
		wantStatus(t, err, codes.InvalidArgument, "source")
	})
}

func date(y int, m time.Month, d int) *timestamppb.Timestamp {
	return timestamppb.New(time.Date(y, m, d, 12, 0, 0, 0, time.UTC))
}

const zebrafishURL = "https://blog.example.org/zebrafish-hearts"

// upserted are the documents testIndexService sends; the last is refused.
var upserted = []*cariv1.Document{
	{Id: "news-aurora", Url: "https://news.example.com/2024/05/aurora", Title: "Aurora lights up the northern sky",
		Text:   "A strong geomagnetic storm driven by the solar wind painted green aurora curtains across the night sky.",
		Author: "R. Stargazer", PublishedDate: date(2024, 5, 11), Language: "en"},
	{Url: zebrafishURL, Title: "Zebrafish regrow their hearts", // no id: derived from the URL
		Text: "Zebrafish regenerate heart muscle after injury, and researchers hope to learn how.", PublishedDate: date(2021, 3, 2), Language: "en"},
	{Id: "news-merapi", Url: "https://www.News.Example.com/2023/08/merapi", Title: "Gunung Merapi erupsi lagi",
		Text: "Gunung Merapi kembali erupsi dan memuntahkan awan panas; the volcano is one of the most active in Indonesia.", PublishedDate: date(2023, 8, 20), Language: "id"},
	{Id: "bad-url", Url: "/relative/only", Title: "Relative", Text: "This document has a relative URL."},
}

func testIndexService(t *testing.T, conn *grpc.ClientConn) {
	ix := cariv1.NewIndexServiceClient(conn)
	sc := cariv1.NewSearchServiceClient(conn)

	if !t.Run("upsert", func(t *testing.T) {
		stream, err := ix.UpsertDocuments(rpcContext(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range upserted {
			if err := stream.Send(&cariv1.UpsertDocumentsRequest{Document: d}); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := stream.CloseAndRecv()
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetReceived() != 4 || resp.GetIndexed() != 3 || resp.GetFailed() != 1 {
			t.Errorf("received=%d indexed=%d failed=%d, want 4, 3, 1", resp.GetReceived(), resp.GetIndexed(), resp.GetFailed())
		}
		if len(resp.GetErrors()) != 1 {
			t.Fatalf("errors %v, want one", resp.GetErrors())
		}
		e := resp.GetErrors()[0]
		if e.GetIndex() != 3 || e.GetId() != "bad-url" || e.GetField() != "document.url" || !strings.Contains(e.GetMessage(), "absolute") {
			t.Errorf("error %v, want index 3, id bad-url, field document.url, a message about absolute URLs", e)
		}
	}) {
		t.FailNow()
	}

	t.Run("upserted documents are searchable with their fields", func(t *testing.T) {
		resp, err := sc.Search(rpcContext(t), &cariv1.SearchRequest{Query: "aurora geomagnetic storm"})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetResults()) == 0 || resp.GetResults()[0].GetId() != "news-aurora" {
			t.Fatalf("results %v, want news-aurora first", resultIDs(resp))
		}
		r, want := resp.GetResults()[0], upserted[0]
		if r.GetUrl() != want.GetUrl() || r.GetDomain() != "news.example.com" || r.GetLanguage() != "en" ||
			r.GetAuthor() != want.GetAuthor() || !r.GetPublishedDate().AsTime().Equal(want.GetPublishedDate().AsTime()) ||
			r.GetCrawlDate() == nil {
			t.Errorf("result %v does not carry the upserted fields of %v", r, want)
		}
	})

	t.Run("filters", func(t *testing.T) {
		volcano := func(f *cariv1.SearchFilters) []string {
			return search(t, sc, &cariv1.SearchRequest{Query: "volcano", Filters: f})
		}
		for _, tc := range []struct {
			name    string
			filters *cariv1.SearchFilters
			want    []string
		}{
			{"none", nil, []string{"doc02", "news-merapi"}},
			{"include_domains", &cariv1.SearchFilters{IncludeDomains: []string{"WWW.news.example.com"}}, []string{"news-merapi"}},
			{"exclude_domains", &cariv1.SearchFilters{ExcludeDomains: []string{"example.com"}}, []string{"doc02"}},
			{"published in 2023", &cariv1.SearchFilters{PublishedDate: &cariv1.TimeRange{Start: date(2023, 1, 1), End: date(2023, 12, 31)}}, []string{"news-merapi"}},
			{"published since 2024", &cariv1.SearchFilters{PublishedDate: &cariv1.TimeRange{Start: date(2024, 1, 1)}}, nil},
			{"language", &cariv1.SearchFilters{Languages: []string{"id"}}, []string{"news-merapi"}},
		} {
			got := volcano(tc.filters)
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: results %v, want %v", tc.name, got, tc.want)
			}
		}
		got := search(t, sc, &cariv1.SearchRequest{Query: "zebrafish heart", Filters: &cariv1.SearchFilters{IncludeDomains: []string{"example.org"}}})
		if want := []string{cari.DocumentID(zebrafishURL)}; !slices.Equal(got, want) {
			t.Errorf("include_domains example.org (a parent domain): results %v, want %v", got, want)
		}
	})

	t.Run("get contents by id and url", func(t *testing.T) {
		resp, err := sc.GetContents(rpcContext(t), &cariv1.GetContentsRequest{
			Ids:  []string{"news-aurora", "no-such-doc"},
			Urls: []string{zebrafishURL, "https://nowhere.example.net/"},
		})
		if err != nil {
			t.Fatal(err)
		}
		items := resp.GetItems()
		wantStatus := []cariv1.ContentsStatus{cariv1.ContentsStatus_CONTENTS_STATUS_FOUND, cariv1.ContentsStatus_CONTENTS_STATUS_NOT_FOUND,
			cariv1.ContentsStatus_CONTENTS_STATUS_FOUND, cariv1.ContentsStatus_CONTENTS_STATUS_NOT_FOUND}
		if len(items) != len(wantStatus) {
			t.Fatalf("%d items, want %d: %v", len(items), len(wantStatus), items)
		}
		for i, it := range items {
			if it.GetStatus() != wantStatus[i] {
				t.Errorf("item %d (%v): status %v, want %v", i, it.GetRequested(), it.GetStatus(), wantStatus[i])
			}
		}
		if d := items[0].GetDocument(); d.GetId() != "news-aurora" || d.GetText() != upserted[0].GetText() {
			t.Errorf("by id: %v, want news-aurora with its whole text", d)
		}
		if d := items[2].GetDocument(); items[2].GetUrl() != zebrafishURL || d.GetId() != cari.DocumentID(zebrafishURL) || d.GetTitle() != upserted[1].GetTitle() {
			t.Errorf("by url: %v, want the zebrafish document with id %s", items[2], cari.DocumentID(zebrafishURL))
		}
		if items[1].GetId() != "no-such-doc" || items[1].GetDocument() != nil {
			t.Errorf("unknown id: %v", items[1])
		}
	})

	t.Run("delete", func(t *testing.T) {
		resp, err := ix.DeleteDocuments(rpcContext(t), &cariv1.DeleteDocumentsRequest{Ids: []string{"news-aurora", "no-such-doc"}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetDeleted() != 1 || !slices.Equal(resp.GetNotFoundIds(), []string{"no-such-doc"}) {
			t.Errorf("deleted=%d not_found_ids=%v, want 1 and [no-such-doc]", resp.GetDeleted(), resp.GetNotFoundIds())
		}
		if ids := search(t, sc, &cariv1.SearchRequest{Query: "aurora geomagnetic storm"}); slices.Contains(ids, "news-aurora") {
			t.Errorf("deleted document still found: %v", ids)
		}
		got, err := sc.GetContents(rpcContext(t), &cariv1.GetContentsRequest{Ids: []string{"news-aurora"}})
		if err != nil {
			t.Fatal(err)
		}
		if s := got.GetItems()[0].GetStatus(); s != cariv1.ContentsStatus_CONTENTS_STATUS_NOT_FOUND {
			t.Errorf("GetContents of the deleted document: %v, want NOT_FOUND", s)
		}
	})

	t.Run("stats", func(t *testing.T) {
		st, err := ix.GetStats(rpcContext(t), &cariv1.GetStatsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		want := int64(fixtureDocs + 2) // 3 upserted, 1 deleted
		if st.GetDocuments() != want || st.GetChunks() != want || st.GetStore() != "local" || st.GetServingGeneration() == "" {
			t.Errorf("stats %v, want %d documents and chunks in a local store", st, want)
		}
	})
}
