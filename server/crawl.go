package server

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// Crawl will run a crawl on the server and stream its progress.
func (s *indexService) Crawl(*cariv1.CrawlRequest, cariv1.IndexService_CrawlServer) error {
	return status.Error(codes.Unimplemented, "Crawl is not implemented yet")
}
