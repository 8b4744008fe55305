package exa

import (
	"context"
	"net/http"

	"google.golang.org/grpc"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// collectionPath is where Exa's endpoints answer for one collection (or an
// alias of one): POST /c/{collection}/search and the others, so that an
// Exa SDK whose base URL is http://HOST:PORT/c/docs searches docs. The
// plain paths use "default".
const collectionPath = "POST /c/{collection}/{endpoint}"

// inCollection serves an Exa endpoint under collectionPath: the same
// handler, on a Searcher that names the collection in every call, so the
// server resolves it (aliases, NOT_FOUND, a key's collections) as it does
// for /v1/.
func (a *exaAPI) inCollection(w http.ResponseWriter, r *http.Request) {
	scoped := *a
	scoped.search = collectionSearcher{Searcher: a.search, name: r.PathValue("collection")}
	handlers := map[string]func(*exaCall, []byte) (any, error){
		"search": scoped.searchHandler, "findSimilar": scoped.findSimilarHandler,
		"contents": scoped.contentsHandler, "answer": scoped.answerHandler,
	}
	h, ok := handlers[r.PathValue("endpoint")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	scoped.handle(h)(w, r)
}

// collectionSearcher sends every call to one collection.
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
