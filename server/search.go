package server

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
)

// searchService implements cari.v1.SearchService on a searcher.
type searchService struct {
	cariv1.UnimplementedSearchServiceServer
	searcher *searcher.Searcher
	log      *slog.Logger
	// maxNumResults caps num_results below the searcher's maximum; 0: none.
	maxNumResults int
	// model describes the embedding model in responses as GetStats does.
	model *servingModel
}

func (s *searchService) Search(ctx context.Context, req *cariv1.SearchRequest) (*cariv1.SearchResponse, error) {
	start := time.Now()
	n, err := s.numResults(req.GetNumResults())
	if err != nil {
		return nil, statusOf(ctx, s.log, "Search", err)
	}
	q, err := searchQuery(req)
	if err != nil {
		return nil, statusOf(ctx, s.log, "Search", err)
	}
	q.NumResults = n
	resp, err := s.searcher.Search(ctx, q)
	if err != nil {
		return nil, statusOf(ctx, s.log, "Search", err)
	}
	return s.response(ctx, resp, start), nil
}

// numResults is numResultsOf with this service's cap.
func (s *searchService) numResults(n int32) (int, error) {
	return numResultsOf(n, s.maxNumResults)
}

// numResultsOf checks a request's num_results against the server's cap
// limit (searcher.CheckNumResults, so it reads as the searcher's own
// bound), and turns 0 (not set) into the searcher's default, or the cap
// when that is lower.
func numResultsOf(n int32, limit int) (int, error) {
	if n == 0 {
		return min(searcher.DefaultNumResults, cmp.Or(limit, searcher.MaxNumResults)), nil
	}
	if err := searcher.CheckNumResults(int(n), limit); err != nil {
		return 0, err
	}
	return int(n), nil
}

// searchResponse converts a searcher response; start is when the request
// arrived.
func searchResponse(resp *searcher.Response, start time.Time) *cariv1.SearchResponse {
	out := &cariv1.SearchResponse{
		RequestId:          cariv1.NewRequestID(),
		ResolvedSearchType: protoType(resp.Type),
	}
	for _, r := range resp.Results {
		out.Results = append(out.Results, protoResult(r))
	}
	out.Reranked, out.RerankSkippedReason = resp.Reranked, resp.RerankSkipped
	total := time.Since(start)
	out.Timings = protoTimings(withTransport(resp.Timings, total))
	out.TotalDuration = durationpb.New(total)
	return out
}

// response is searchResponse with the embedding model named as GetStats
// names it.
func (s *searchService) response(ctx context.Context, resp *searcher.Response, start time.Time) *cariv1.SearchResponse {
	model := s.model.describe(ctx, resp.Model)
	out := searchResponse(resp, start)
	out.EmbeddingModel = model
	return out
}

// transportStage names the server's own part of a request: reading and
// checking it before the search, converting the results after.
const transportStage = "transport"

// withTransport appends the transport stage, the part of total that the
// searcher's stages do not cover, so that the stages add up to the total.
func withTransport(stages []searcher.StageTiming, total time.Duration) []searcher.StageTiming {
	rest := total
	for _, st := range stages {
		rest -= st.Duration
	}
	return append(stages, searcher.StageTiming{Stage: transportStage, Duration: max(rest, 0)})
}

func (s *searchService) FindSimilar(ctx context.Context, req *cariv1.FindSimilarRequest) (*cariv1.SearchResponse, error) {
	start := time.Now()
	n, err := s.numResults(req.GetNumResults())
	if err != nil {
		return nil, statusOf(ctx, s.log, "FindSimilar", err)
	}
	filter, err := filterOf(req.GetFilters())
	if err != nil {
		return nil, statusOf(ctx, s.log, "FindSimilar", err)
	}
	contents, err := contentsOf(req.GetContents())
	if err != nil {
		return nil, statusOf(ctx, s.log, "FindSimilar", err)
	}
	resp, err := s.searcher.FindSimilar(ctx, searcher.SimilarQuery{
		ID:                  req.GetId(),
		URL:                 req.GetUrl(),
		NumResults:          n,
		Filter:              filter,
		Contents:            contents,
		ExcludeSourceDomain: req.GetExcludeSourceDomain(),
		Debug:               req.GetDebug(),
	})
	if err != nil {
		return nil, statusOf(ctx, s.log, "FindSimilar", err)
	}
	return s.response(ctx, resp, start), nil
}

func (s *searchService) GetContents(ctx context.Context, req *cariv1.GetContentsRequest) (*cariv1.GetContentsResponse, error) {
	c, err := contentsOf(req.GetContents())
	if err != nil {
		return nil, statusOf(ctx, s.log, "GetContents", err)
	}
	if req.GetContents().GetText() == nil {
		c.Text = true // GetContents returns the whole text unless told otherwise
	}
	items, err := s.searcher.Contents(ctx, req.GetIds(), req.GetUrls(), c)
	if err != nil {
		return nil, statusOf(ctx, s.log, "GetContents", err)
	}
	out := &cariv1.GetContentsResponse{RequestId: cariv1.NewRequestID()}
	for _, it := range items {
		pi := &cariv1.ContentsItem{Status: cariv1.ContentsStatus_CONTENTS_STATUS_NOT_FOUND}
		if it.URL != "" {
			pi.Requested = &cariv1.ContentsItem_Url{Url: it.URL}
		} else {
			pi.Requested = &cariv1.ContentsItem_Id{Id: it.ID}
		}
		if it.Found {
			pi.Status = cariv1.ContentsStatus_CONTENTS_STATUS_FOUND
			pi.Document = protoResult(it.Result)
		}
		out.Items = append(out.Items, pi)
	}
	return out, nil
}
