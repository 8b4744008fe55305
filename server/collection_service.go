package server

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/catalog"
)

// collectionService implements cari.v1.CollectionService on the router's
// catalog; a server without one serves default alone, and says so when
// asked to change it.
type collectionService struct {
	cariv1.UnimplementedCollectionServiceServer
	r *router
}

// catalog returns the data directory's catalog, or FAILED_PRECONDITION for
// a server without one.
func (s *collectionService) catalog() (*catalog.Catalog, error) {
	if s.r.set == nil {
		return nil, status.Error(codes.FailedPrecondition, "this server serves the collection default alone (no collection catalog): start it on a data directory (cari serve --data) to manage collections")
	}
	return s.r.set.Catalog, nil
}

func (s *collectionService) ListCollections(ctx context.Context, _ *cariv1.ListCollectionsRequest) (*cariv1.ListCollectionsResponse, error) {
	out := &cariv1.ListCollectionsResponse{}
	if s.r.set == nil {
		def := catalog.Collection{Name: catalog.Default}
		if err := mayUse(ctx, "", def.Name); err == nil {
			out.Collections = []*cariv1.Collection{s.described(ctx, def, nil)}
		}
		return out, nil
	}
	l := s.r.set.Catalog.Listing()
	for _, c := range l.Collections {
		if mayUse(ctx, "", c.Name) == nil {
			out.Collections = append(out.Collections, s.described(ctx, c, l.Aliases))
		}
	}
	return out, nil
}

// described is protoCollection with c's document count and embedding
// model, for which it opens c. A collection that cannot be opened is
// described without them, and the log says why: one broken collection
// does not hide the others.
func (s *collectionService) described(ctx context.Context, c catalog.Collection, aliases []catalog.Alias) *cariv1.Collection {
	out := protoCollection(c, aliases)
	err := func() error {
		svc, release, err := s.r.acquire(ctx, c)
		if err != nil {
			return err
		}
		defer release()
		if svc.store == nil {
			return nil
		}
		st, err := svc.store.Stats(ctx)
		if err != nil {
			return err
		}
		gens, err := svc.store.Generations(ctx)
		if err != nil {
			return err
		}
		out.DocumentCount = &st.Documents
		for _, g := range gens {
			if g.State == store.GenerationServing {
				out.EmbeddingModel = embeddingModel(g.Vectors)
			}
		}
		return nil
	}()
	if err != nil {
		s.r.base.Logger.WarnContext(ctx, "cannot count a collection's documents", "collection", c.Name, "err", err)
	}
	return out
}

func (s *collectionService) GetCollection(ctx context.Context, req *cariv1.GetCollectionRequest) (*cariv1.Collection, error) {
	col, err := s.r.resolve(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	var aliases []catalog.Alias
	if s.r.set != nil {
		aliases = s.r.set.Catalog.Aliases()
	}
	return s.described(ctx, col, aliases), nil
}

func (s *collectionService) CreateCollection(ctx context.Context, req *cariv1.CreateCollectionRequest) (*cariv1.Collection, error) {
	cat, err := s.catalog()
	if err != nil {
		return nil, err
	}
	if err := mayUse(ctx, req.GetName(), req.GetName()); err != nil {
		return nil, err
	}
	col, err := cat.Create(req.GetName(), settingsOf(req.GetSettings()))
	if err != nil {
		return nil, collectionStatus(err)
	}
	return protoCollection(col, nil), nil
}

func (s *collectionService) UpdateCollection(ctx context.Context, req *cariv1.UpdateCollectionRequest) (*cariv1.Collection, error) {
	cat, err := s.catalog()
	if err != nil {
		return nil, err
	}
	if err := mayUse(ctx, req.GetName(), req.GetName()); err != nil {
		return nil, err
	}
	var col catalog.Collection
	err = s.r.change(ctx, req.GetName(), true, func() error {
		var err error
		col, err = cat.Update(req.GetName(), func(st *catalog.Settings) error { *st = settingsOf(req.GetSettings()); return nil })
		if err != nil {
			return collectionStatus(err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return protoCollection(col, cat.Aliases()), nil
}

func (s *collectionService) DeleteCollection(ctx context.Context, req *cariv1.DeleteCollectionRequest) (*cariv1.DeleteCollectionResponse, error) {
	cat, err := s.catalog()
	if err != nil {
		return nil, err
	}
	if err := mayUse(ctx, req.GetName(), req.GetName()); err != nil {
		return nil, err
	}
	col, err := cat.Resolve(req.GetName())
	if err != nil {
		return nil, collectionStatus(err)
	}
	if col.Name == catalog.Default || col.Name != req.GetName() {
		// Refused (default, or an alias) without holding up its requests.
		return nil, collectionStatus(cat.Delete(req.GetName()))
	}
	err = s.r.change(ctx, req.GetName(), false, func() error {
		if err := cat.Delete(req.GetName()); err != nil {
			return collectionStatus(err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cariv1.DeleteCollectionResponse{}, nil
}

func (s *collectionService) UpdateAliases(ctx context.Context, req *cariv1.UpdateAliasesRequest) (*cariv1.UpdateAliasesResponse, error) {
	cat, err := s.catalog()
	if err != nil {
		return nil, err
	}
	actions := make([]catalog.AliasAction, 0, len(req.GetActions()))
	for _, a := range req.GetActions() {
		for _, name := range []string{a.GetAlias(), a.GetCollection()} {
			if err := mayUse(ctx, name, name); name != "" && err != nil {
				return nil, err
			}
		}
		actions = append(actions, catalog.AliasAction{Alias: a.GetAlias(), Collection: a.GetCollection(), Delete: a.GetDelete()})
	}
	if err := cat.UpdateAliases(actions); err != nil {
		return nil, collectionStatus(err)
	}
	return &cariv1.UpdateAliasesResponse{Aliases: protoAliases(cat.Aliases())}, nil
}

func (s *collectionService) ListAliases(ctx context.Context, _ *cariv1.ListAliasesRequest) (*cariv1.ListAliasesResponse, error) {
	if s.r.set == nil {
		return &cariv1.ListAliasesResponse{}, nil
	}
	var visible []catalog.Alias
	for _, a := range s.r.set.Catalog.Aliases() {
		if mayUse(ctx, a.Name, a.Collection) == nil {
			visible = append(visible, a)
		}
	}
	return &cariv1.ListAliasesResponse{Aliases: protoAliases(visible)}, nil
}

func protoAliases(as []catalog.Alias) []*cariv1.Alias {
	out := make([]*cariv1.Alias, 0, len(as))
	for _, a := range as {
		out = append(out, &cariv1.Alias{Name: a.Name, Collection: a.Collection})
	}
	return out
}

func protoCollection(c catalog.Collection, aliases []catalog.Alias) *cariv1.Collection {
	st := c.Settings
	out := &cariv1.Collection{Name: c.Name, Settings: &cariv1.CollectionSettings{
		Language: st.Language, Embedder: st.Embedder, EmbedModel: st.EmbedModel, Reranker: st.Reranker,
		UrlTemplate: st.URLTemplate, MaxDocuments: st.Limits.MaxDocuments,
	}}
	if st.BM25 != (store.BM25{}) {
		out.Settings.Bm25K1, out.Settings.Bm25B = &st.BM25.K1, &st.BM25.B
	}
	if !c.Created.IsZero() {
		out.CreateTime = timestamppb.New(c.Created)
	}
	for _, a := range aliases {
		if a.Collection == c.Name {
			out.Aliases = append(out.Aliases, a.Name)
		}
	}
	return out
}

func settingsOf(p *cariv1.CollectionSettings) catalog.Settings {
	return catalog.Settings{
		Language: p.GetLanguage(), Embedder: p.GetEmbedder(), EmbedModel: p.GetEmbedModel(), Reranker: p.GetReranker(),
		URLTemplate: p.GetUrlTemplate(), Limits: catalog.Limits{MaxDocuments: p.GetMaxDocuments()},
		BM25: store.BM25{K1: p.GetBm25K1(), B: p.GetBm25B()},
	}
}
