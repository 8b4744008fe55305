package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
)

// searchService implements cari.v1.SearchService on a searcher.
type searchService struct {
	cariv1.UnimplementedSearchServiceServer
	searcher *searcher.Searcher
	log      *slog.Logger
}

func (s *searchService) Search(ctx context.Context, req *cariv1.SearchRequest) (*cariv1.SearchResponse, error) {
	start := time.Now()
	q, err := searchQuery(req)
	if err != nil {
		return nil, statusOf(ctx, s.log, "Search", err)
	}
	resp, err := s.searcher.Search(ctx, q)
	if err != nil {
		return nil, statusOf(ctx, s.log, "Search", err)
	}
	out := &cariv1.SearchResponse{
		RequestId:          newRequestID(),
		ResolvedSearchType: protoType(resp.Type),
		Timings:            protoTimings(resp.Timings),
	}
	for _, r := range resp.Results {
		out.Results = append(out.Results, protoResult(r))
	}
	if resp.Model != "" {
		out.EmbeddingModel = &cariv1.EmbeddingModel{Name: resp.Model}
	}
	out.Reranked, out.RerankSkippedReason = resp.Reranked, resp.RerankSkipped
	out.TotalDuration = durationpb.New(time.Since(start))
	return out, nil
}

func (s *searchService) FindSimilar(ctx context.Context, req *cariv1.FindSimilarRequest) (*cariv1.SearchResponse, error) {
	return nil, status.Error(codes.Unimplemented, "FindSimilar needs document vectors, which this server does not index yet")
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
	out := &cariv1.GetContentsResponse{RequestId: newRequestID()}
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

// newRequestID returns 16 random bytes in hex, for correlating logs.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
