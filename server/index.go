package server

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/store"
)

// IndexStore is what the index service needs from a store.
type IndexStore interface {
	indexer.Writer
	// Delete removes documents by ID and returns the IDs not found.
	Delete(ctx context.Context, ids []string) (notFound []string, err error)
	// IDsForURLs maps stored URLs to document IDs.
	IDsForURLs(ctx context.Context, urls []string) (map[string]string, error)
	// Stats describe the serving generation.
	Stats(ctx context.Context) (store.Stats, error)
	// Generations lists every generation the store keeps, for GetStats.
	Generations(ctx context.Context) ([]store.Generation, error)
}

// maxListedUpsertErrors bounds the per-item errors one upsert response lists.
const maxListedUpsertErrors = 1000

// maxDeleteItems bounds the ids and urls of one delete request.
const maxDeleteItems = 10000

// indexService implements cari.v1.IndexService on a store.
type indexService struct {
	cariv1.UnimplementedIndexServiceServer
	store     IndexStore
	indexing  indexer.Options
	storeName string
	log       *slog.Logger
	// examples offers example queries in GetStats.
	examples *exampleQueries
}

// UpsertDocuments indexes a stream of documents. Invalid documents are
// listed in the response and skipped; valid ones are stored in batches.
// The response is sent only after every valid document is stored.
func (s *indexService) UpsertDocuments(stream cariv1.IndexService_UpsertDocumentsServer) error {
	ctx := stream.Context()
	ix, err := indexer.New(s.store, s.indexing)
	if err != nil {
		return statusOf(ctx, s.log, "UpsertDocuments", err)
	}
	resp := &cariv1.UpsertDocumentsResponse{}
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		i := resp.Received
		resp.Received++
		doc, err := documentOf(req.GetDocument())
		if err == nil {
			err = ix.Add(ctx, doc)
		}
		var fe *cari.FieldError
		if errors.As(err, &fe) {
			resp.Failed++
			if len(resp.Errors) < maxListedUpsertErrors {
				resp.Errors = append(resp.Errors, &cariv1.UpsertError{
					Index: i, Id: req.GetDocument().GetId(), Url: req.GetDocument().GetUrl(),
					Field: "document." + fe.Field, Message: fe.Reason,
				})
			} else {
				resp.ErrorsTruncated = true
			}
			continue
		}
		if err != nil {
			return statusOf(ctx, s.log, "UpsertDocuments", err)
		}
	}
	if err := ix.Flush(ctx); err != nil {
		return statusOf(ctx, s.log, "UpsertDocuments", err)
	}
	resp.Indexed = resp.Received - resp.Failed
	return stream.SendAndClose(resp)
}

func (s *indexService) DeleteDocuments(ctx context.Context, req *cariv1.DeleteDocumentsRequest) (*cariv1.DeleteDocumentsResponse, error) {
	n := len(req.GetIds()) + len(req.GetUrls())
	if n == 0 {
		return nil, invalidArgument("ids", "ids and urls are both empty; give at least one")
	}
	if n > maxDeleteItems {
		return nil, status.Errorf(codes.InvalidArgument, "ids: ids and urls together must be at most %d, got %d", maxDeleteItems, n)
	}
	byURL, err := s.store.IDsForURLs(ctx, req.GetUrls())
	if err != nil {
		return nil, statusOf(ctx, s.log, "DeleteDocuments", err)
	}
	resp := &cariv1.DeleteDocumentsResponse{}
	ids := append([]string(nil), req.GetIds()...)
	for _, u := range req.GetUrls() {
		if id, ok := byURL[u]; ok {
			ids = append(ids, id)
		} else {
			resp.NotFoundUrls = append(resp.NotFoundUrls, u)
		}
	}
	notFound, err := s.store.Delete(ctx, ids)
	if err != nil {
		return nil, statusOf(ctx, s.log, "DeleteDocuments", err)
	}
	resp.NotFoundIds = notFound
	resp.Deleted = int64(len(uniq(ids)) - len(notFound))
	return resp, nil
}

func (s *indexService) GetStats(ctx context.Context, _ *cariv1.GetStatsRequest) (*cariv1.GetStatsResponse, error) {
	st, err := s.store.Stats(ctx)
	if err != nil {
		return nil, statusOf(ctx, s.log, "GetStats", err)
	}
	resp := &cariv1.GetStatsResponse{
		Documents:         st.Documents,
		Chunks:            st.Chunks,
		AvgDocTokens:      st.AvgDocTokens,
		ServingGeneration: st.Generation,
		IndexSizeBytes:    proto.Int64(st.DiskBytes),
		Store:             s.storeName,
		Generations: []*cariv1.GenerationInfo{{
			Name:      st.Generation,
			State:     cariv1.GenerationState_GENERATION_STATE_SERVING,
			Documents: st.Documents,
			Chunks:    st.Chunks,
			SizeBytes: proto.Int64(st.DiskBytes),
		}},
	}
	gens, err := s.store.Generations(ctx)
	if err != nil {
		return nil, statusOf(ctx, s.log, "GetStats", err)
	}
	var total int64
	for _, g := range gens {
		total += g.SizeBytes
		if info := generationInfo(g); g.Name == st.Generation {
			resp.Generations[0] = info
		} else {
			resp.Generations = append(resp.Generations, info)
		}
	}
	resp.IndexSizeBytes = proto.Int64(total)
	resp.EmbeddingModel = resp.Generations[0].GetEmbeddingModel()
	resp.ExampleQueries = s.examples.get(ctx, st.Generation, st.Documents)
	if !st.LastWrite.IsZero() {
		resp.LastWriteTime = timestamppb.New(st.LastWrite)
	}
	return resp, nil
}

// StatsOf is the inverse of GetStats for what store.Stats holds: the
// serving generation's name, counts and size, as the store would report
// them to a process that opened it (cari stats beside a server).
func StatsOf(resp *cariv1.GetStatsResponse) store.Stats {
	st := store.Stats{Generation: resp.GetServingGeneration(), Documents: resp.GetDocuments(), Chunks: resp.GetChunks(), AvgDocTokens: resp.GetAvgDocTokens()}
	if gens := resp.GetGenerations(); len(gens) > 0 && gens[0].GetName() == st.Generation {
		st.DiskBytes = gens[0].GetSizeBytes()
	}
	if t := resp.GetLastWriteTime(); t != nil {
		st.LastWrite = t.AsTime()
	}
	return st
}

func uniq(ids []string) map[string]struct{} {
	m := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		m[id] = struct{}{}
	}
	return m
}
