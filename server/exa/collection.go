package exa

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// defaultCollection is the collection the plain paths serve, as the
// server's catalog names it.
const defaultCollection = "default"

// forCollection returns the API as it serves the collection (or alias)
// the request's path names, "" for the plain paths: every SearchService
// call names the collection, so the server resolves it, checks the key may
// use it and answers NOT_FOUND or PERMISSION_DENIED naming it; and results
// without a URL get the collection's own URL template, else the server's.
func (a *exaAPI) forCollection(name string) (*exaAPI, error) {
	if name == "" && a.templateOf == nil {
		return a, nil
	}
	ca := *a
	ca.collection = name
	if name != "" && name != defaultCollection {
		ca.search = collectionSearcher{Searcher: a.search, name: name}
	}
	if a.templateOf != nil {
		if t := a.templateOf(name); t != "" {
			urls, err := newDocURLs(t)
			if err != nil {
				// The catalog validated the template when it was set.
				return nil, status.Errorf(codes.Internal, "collection %q: %v", name, err)
			}
			ca.urls = urls
		}
	}
	return &ca, nil
}

// collectionSearcher is a Searcher whose every request names one
// collection.
type collectionSearcher struct {
	Searcher
	name string
}

func (s collectionSearcher) Search(ctx context.Context, in *cariv1.SearchRequest, opts ...grpc.CallOption) (*cariv1.SearchResponse, error) {
	in.Collection = s.name
	return s.Searcher.Search(ctx, in, opts...)
}

func (s collectionSearcher) FindSimilar(ctx context.Context, in *cariv1.FindSimilarRequest, opts ...grpc.CallOption) (*cariv1.SearchResponse, error) {
	in.Collection = s.name
	return s.Searcher.FindSimilar(ctx, in, opts...)
}

func (s collectionSearcher) GetContents(ctx context.Context, in *cariv1.GetContentsRequest, opts ...grpc.CallOption) (*cariv1.GetContentsResponse, error) {
	in.Collection = s.name
	return s.Searcher.GetContents(ctx, in, opts...)
}
