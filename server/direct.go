package server

import (
	"context"
	"log/slog"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
)

// SearchDirect answers req with s as SearchService.Search does (the same
// checks, conversion and response), in this process and without a server:
// for cari search --data, which opens a data directory itself. st names the
// embedding model in the response as GetStats does.
func SearchDirect(ctx context.Context, s *searcher.Searcher, st IndexStore, req *cariv1.SearchRequest) (*cariv1.SearchResponse, error) {
	svc := &searchService{searcher: s, log: slog.New(slog.DiscardHandler), model: &servingModel{store: st}}
	return svc.Search(ctx, req)
}
