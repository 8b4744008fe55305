package server

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
)

// A server's num_results cap answers with the searcher's own wording of
// the bound (searcher.CheckNumResults), in Search and FindSimilar alike,
// and a search that does not say how many gets no more than the cap.
func TestNumResultsCap(t *testing.T) {
	ts := startServer(t, serverSetup{opts: func(o *Options) { o.MaxNumResults = 1 }})
	ctx := t.Context()
	want := searcher.CheckNumResults(2, 1).Error()
	_, err := ts.search().Search(ctx, &cariv1.SearchRequest{Query: "volcano", NumResults: 2})
	if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || st.Message() != want {
		t.Errorf("Search over the cap: %v, want INVALID_ARGUMENT %q", err, want)
	}
	_, err = ts.search().FindSimilar(ctx, &cariv1.FindSimilarRequest{Source: &cariv1.FindSimilarRequest_Id{Id: "volcano"}, NumResults: 2})
	if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || st.Message() != want {
		t.Errorf("FindSimilar over the cap: %v, want INVALID_ARGUMENT %q", err, want)
	}
	_, err = ts.search().Search(ctx, &cariv1.SearchRequest{Query: "volcano", NumResults: -1})
	if st, _ := status.FromError(err); st.Message() != searcher.CheckNumResults(-1, 1).Error() {
		t.Errorf("Search with -1: %v, want the same wording", err)
	}
	// "volcano" matches two documents; unset, num_results is the cap.
	resp, err := ts.search().Search(ctx, &cariv1.SearchRequest{Query: "volcano"})
	if err != nil || len(resp.GetResults()) != 1 {
		t.Errorf("Search without num_results on a server capped at 1: %d results, %v", len(resp.GetResults()), err)
	}
}

// A query as long as a verbose topic (CISI's longest has 2,023
// characters) is searched; one over the searcher's limit is refused
// naming the field and the limit.
func TestLongQuery(t *testing.T) {
	ts := startServer(t, serverSetup{})
	ctx := t.Context()
	long := strings.Repeat("volcano erupts ", 135) // 2,025 characters
	if _, err := ts.search().Search(ctx, &cariv1.SearchRequest{Query: long}); err != nil {
		t.Errorf("a %d-character query: %v", len(long), err)
	}
	tooLong := strings.Repeat("a", searcher.DefaultMaxQueryChars+1)
	_, err := ts.search().Search(ctx, &cariv1.SearchRequest{Query: tooLong})
	if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "query: must be at most 10000 characters") {
		t.Errorf("a %d-character query: %v, want INVALID_ARGUMENT naming query and the limit", len(tooLong), err)
	}
}
