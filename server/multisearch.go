package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/store/catalog"
)

// maxSearchCollections bounds SearchRequest.collections: each collection
// runs a whole search of its own.
const maxSearchCollections = 10

// searchMany answers a search over several collections: each runs the
// request with its own settings and models, at once, and the lists are
// fused by rank (searcher.FuseRankings).
func (s *searchRouter) searchMany(ctx context.Context, req *cariv1.SearchRequest) (*cariv1.SearchResponse, error) {
	start := time.Now()
	log := s.r.base.Logger
	n, err := numResultsOf(req.GetNumResults(), s.r.base.MaxNumResults)
	if err != nil {
		return nil, statusOf(ctx, log, "Search", err)
	}
	cols, err := s.resolveAll(ctx, req)
	if err != nil {
		return nil, err
	}
	resps := make([]*cariv1.SearchResponse, len(cols))
	g, gctx := errgroup.WithContext(ctx)
	for i, col := range cols {
		g.Go(func() error {
			svc, release, err := s.r.serve(gctx, col)
			if err != nil {
				return err
			}
			defer release()
			one := proto.CloneOf(req)
			one.Collections, one.Collection, one.NumResults = nil, col.Name, int32(n)
			resp, err := svc.search.Search(gctx, one)
			if err != nil {
				return collectionError(col.Name, err)
			}
			resps[i] = inCollection(col.Name, resp)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	k := searcher.DefaultFusion.RRFK
	if f := req.GetFusion(); f != nil && f.RrfK != nil {
		k = float64(f.GetRrfK())
	}
	out := fuseCollections(cols, resps, k, n, req.GetDebug())
	out.TotalDuration = durationpb.New(time.Since(start))
	return out, nil
}

// resolveAll checks and resolves req.collections: first that each entry
// is a collection name and that req does not also name a collection
// (INVALID_ARGUMENT), then, in order, that each names a collection
// (NOT_FOUND) the caller's key may use (PERMISSION_DENIED), and that none
// names one twice; each error names the first entry at fault.
func (s *searchRouter) resolveAll(ctx context.Context, req *cariv1.SearchRequest) ([]catalog.Collection, error) {
	names := req.GetCollections()
	switch {
	case req.GetCollection() != "":
		return nil, invalidArgument("collections", fmt.Sprintf("set either collection (%q) or collections, not both", req.GetCollection()))
	case len(names) > maxSearchCollections:
		return nil, invalidArgument("collections", fmt.Sprintf("at most %d collections, got %d", maxSearchCollections, len(names)))
	}
	for i, name := range names {
		if err := catalog.CheckName(name); err != nil {
			return nil, invalidArgument(fmt.Sprintf("collections[%d]", i), err.Error())
		}
	}
	cols := make([]catalog.Collection, 0, len(names))
	seen := make(map[string]string, len(names))
	for i, name := range names {
		col, err := s.r.resolve(ctx, name)
		if err != nil {
			return nil, err
		}
		if first, dup := seen[col.Name]; dup {
			return nil, invalidArgument(fmt.Sprintf("collections[%d]", i), fmt.Sprintf("%q is the collection %q, which %q already names", name, col.Name, first))
		}
		seen[col.Name] = name
		cols = append(cols, col)
	}
	return cols, nil
}

// collectionError says which collection's search failed, unless the
// request itself was wrong: an INVALID_ARGUMENT is the same in every
// collection and keeps the field it names.
func collectionError(name string, err error) error {
	st := status.Convert(err)
	if st.Code() == codes.InvalidArgument || st.Code() == codes.Canceled {
		return err
	}
	return status.Errorf(st.Code(), "collection %q: %s", name, st.Message())
}

// fuseCollections fuses the responses of cols, in the request's order,
// into one of at most n results (searcher.FuseRankings with k). Each
// result keeps its collection's contents and gets the fused score; its
// collection's rank and score go in its debug when asked for.
func fuseCollections(cols []catalog.Collection, resps []*cariv1.SearchResponse, k float64, n int, debug bool) *cariv1.SearchResponse {
	lengths := make([]int, len(resps))
	for i, r := range resps {
		lengths[i] = len(r.GetResults())
	}
	out := &cariv1.SearchResponse{RequestId: cariv1.NewRequestID(), Reranked: true}
	for _, f := range searcher.FuseRankings(lengths, k, n) {
		r := resps[f.List].Results[f.Rank-1]
		if debug {
			if r.Debug == nil {
				r.Debug = &cariv1.ResultDebug{}
			}
			r.Debug.CollectionRank, r.Debug.CollectionScore = proto.Int32(int32(f.Rank)), proto.Float32(r.GetScore())
		}
		r.Score = float32(f.Score)
		out.Results = append(out.Results, r)
	}
	var skipped []string
	for i, r := range resps {
		if i == 0 || r.GetResolvedSearchType() == out.ResolvedSearchType {
			out.ResolvedSearchType = r.GetResolvedSearchType()
		} else {
			out.ResolvedSearchType = cariv1.SearchType_SEARCH_TYPE_HYBRID
		}
		if !r.GetReranked() {
			out.Reranked = false
			skipped = append(skipped, fmt.Sprintf("collection %q: %s", cols[i].Name, r.GetRerankSkippedReason()))
		}
	}
	out.RerankSkippedReason = strings.Join(skipped, "; ")
	out.EmbeddingModel = sharedModel(resps)
	out.Timings = slowestStages(resps)
	return out
}

// sharedModel is the model that embedded the query in every response that
// embedded it; nil when none did or they differ.
func sharedModel(resps []*cariv1.SearchResponse) *cariv1.EmbeddingModel {
	var m *cariv1.EmbeddingModel
	for _, r := range resps {
		switch rm := r.GetEmbeddingModel(); {
		case rm == nil:
		case m == nil:
			m = rm
		case m.GetId() != rm.GetId():
			return nil
		}
	}
	return m
}

// slowestStages merges the collections' stage timings: since the
// collections are searched at once, each stage took as long as it took in
// the slowest collection. Stages keep the order they first appear in.
func slowestStages(resps []*cariv1.SearchResponse) []*cariv1.StageTiming {
	var out []*cariv1.StageTiming
	at := map[string]int{}
	for _, r := range resps {
		for _, st := range r.GetTimings() {
			i, ok := at[st.GetStage()]
			if !ok {
				at[st.GetStage()] = len(out)
				out = append(out, st)
				continue
			}
			if st.GetDuration().AsDuration() > out[i].GetDuration().AsDuration() {
				out[i] = st
			}
		}
	}
	return out
}
