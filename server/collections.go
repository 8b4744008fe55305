package server

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cari-search/cari/indexer"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/store/catalog"
)

// CollectionSet is what a server serving a data directory's collections
// needs: the directory's catalog, and a way to open one collection with its
// store and models (package collections does, which the server may not
// import: it names the concrete stores).
type CollectionSet struct {
	Catalog *catalog.Catalog
	// Open opens collection c for serving; the server calls it once per
	// collection, when a request first names it, again when
	// UpdateCollection changes its settings, and closes the result on
	// DeleteCollection, UpdateCollection and at Close. It opens default
	// too, once UpdateCollection has closed the one Options holds.
	Open func(ctx context.Context, c catalog.Collection) (*Collection, error)
	// CloseDefault closes the default collection that Options holds, so
	// that UpdateCollection can reopen it with its new settings (its owner
	// may close it again: it must be idempotent). Nil: default's settings
	// take effect at the next start.
	CloseDefault func() error
	// DrainTimeout bounds how long DeleteCollection and UpdateCollection
	// wait for the requests using the collection to end (a search, an
	// upsert stream, a crawl); past it they change nothing and say so.
	// Default DefaultDrainTimeout.
	DrainTimeout time.Duration
}

// urlTemplate is the URL template of the collection (or alias) name
// names, "" the default one: its own setting, "" when it has none or is
// unknown (the request then fails on the collection itself). It is
// exa.Options.CollectionURLTemplate; nil without a catalog, so that
// Options.URLTemplate applies to all.
func (s *CollectionSet) urlTemplate() func(name string) string {
	if s == nil {
		return nil
	}
	return func(name string) string {
		c, err := s.Catalog.Resolve(name)
		if err != nil {
			return ""
		}
		return c.Settings.URLTemplate
	}
}

// Collection is one open collection as the server serves it: what Options
// holds for the default one.
type Collection struct {
	Searcher  *searcher.Searcher
	Store     IndexStore
	StoreName string
	Indexing  indexer.Options
	// Reindex's Target, Stored, GC and Model are the collection's; the
	// server's options fill the rest.
	Reindex ReindexOptions
	// CrawlStateDir holds the collection's crawl state.
	CrawlStateDir string
	// Close closes the store and models.
	Close func() error
}

// router finds the services of the collection a request names: the default
// one from Options, the others opened through the CollectionSet when first
// named. It checks that the caller's key may use the collection, and holds
// the collection open for the request until it releases it
// (collection_handles.go).
type router struct {
	base Options
	set  *CollectionSet

	mu   sync.Mutex
	open map[string]*handle
	// changing holds the collections being deleted or reopened, each with
	// a channel closed when that is done; their requests wait for it.
	changing map[string]chan struct{}
}

func newRouter(opts Options, def services) *router {
	r := &router{base: opts, set: opts.Collections, open: map[string]*handle{}, changing: map[string]chan struct{}{}}
	h := &handle{svc: def}
	if r.set != nil {
		h.close = r.set.CloseDefault
	}
	r.open[catalog.Default] = h
	return r
}

// resolve returns the collection name names ("" is default), refusing a
// malformed name (INVALID_ARGUMENT), an unknown one (NOT_FOUND) and one
// the caller's key may not use (PERMISSION_DENIED), each naming it.
func (r *router) resolve(ctx context.Context, name string) (catalog.Collection, error) {
	var col catalog.Collection
	if name != "" {
		if err := catalog.CheckName(name); err != nil {
			return col, status.Error(codes.InvalidArgument, err.Error())
		}
	}
	if r.set == nil {
		if name != "" && name != catalog.Default {
			return col, status.Errorf(codes.NotFound, "collection %q: %v (this server serves only %s)", name, catalog.ErrNotFound, catalog.Default)
		}
		col.Name = catalog.Default
	} else {
		var err error
		if col, err = r.set.Catalog.Resolve(name); err != nil {
			return col, collectionStatus(err)
		}
	}
	if err := mayUse(ctx, name, col.Name); err != nil {
		return col, err
	}
	return col, nil
}

// mayUse refuses a collection outside the caller key's collections.
func mayUse(ctx context.Context, asked, name string) error {
	ci := callInfoFrom(ctx)
	if ci == nil || ci.collections == nil {
		return nil
	}
	if slices.Contains(ci.collections, name) || (asked != "" && slices.Contains(ci.collections, asked)) {
		return nil
	}
	return status.Errorf(codes.PermissionDenied, "collection %q: API key %q may not use it", cmpOr(asked, name), ci.key)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// pick returns the services of the collection name names, and the func
// that releases them when the request ends.
func (r *router) pick(ctx context.Context, name string) (services, func(), error) {
	col, err := r.resolve(ctx, name)
	if err != nil {
		return services{}, nil, err
	}
	return r.serve(ctx, col)
}

// serve returns the services of col, which resolve returned, counting the
// request against it; the request calls release when it ends.
func (r *router) serve(ctx context.Context, col catalog.Collection) (svc services, release func(), err error) {
	fullMethod, _ := grpc.Method(ctx)
	r.base.Metrics.routed(col.Name, fullMethod)
	return r.acquire(ctx, col)
}

// collectionStatus maps the catalog's errors to status codes: a failure to
// write the catalog is the server's, every other a request's.
func collectionStatus(err error) error {
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, catalog.ErrExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, catalog.ErrInUse):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.As(err, &pathErr):
		return status.Error(codes.Internal, err.Error())
	}
	return status.Error(codes.InvalidArgument, err.Error())
}

// searchRouter is SearchService over every collection.
type searchRouter struct {
	cariv1.UnimplementedSearchServiceServer
	r *router
}

func (s *searchRouter) Search(ctx context.Context, req *cariv1.SearchRequest) (*cariv1.SearchResponse, error) {
	if len(req.GetCollections()) > 0 {
		return s.searchMany(ctx, req)
	}
	col, svc, release, err := s.pick(ctx, req.GetCollection())
	if err != nil {
		return nil, err
	}
	defer release()
	resp, err := svc.search.Search(ctx, req)
	return inCollection(col, resp), err
}

func (s *searchRouter) FindSimilar(ctx context.Context, req *cariv1.FindSimilarRequest) (*cariv1.SearchResponse, error) {
	col, svc, release, err := s.pick(ctx, req.GetCollection())
	if err != nil {
		return nil, err
	}
	defer release()
	resp, err := svc.search.FindSimilar(ctx, req)
	return inCollection(col, resp), err
}

func (s *searchRouter) GetContents(ctx context.Context, req *cariv1.GetContentsRequest) (*cariv1.GetContentsResponse, error) {
	col, svc, release, err := s.pick(ctx, req.GetCollection())
	if err != nil {
		return nil, err
	}
	defer release()
	resp, err := svc.search.GetContents(ctx, req)
	for _, it := range resp.GetItems() {
		if it.Document != nil {
			it.Document.Collection = col
		}
	}
	return resp, err
}

// pick is router.pick that also returns the collection's name.
func (s *searchRouter) pick(ctx context.Context, name string) (string, services, func(), error) {
	col, err := s.r.resolve(ctx, name)
	if err != nil {
		return "", services{}, nil, err
	}
	svc, release, err := s.r.serve(ctx, col)
	return col.Name, svc, release, err
}

// inCollection marks resp's results as collection's.
func inCollection(collection string, resp *cariv1.SearchResponse) *cariv1.SearchResponse {
	for _, r := range resp.GetResults() {
		r.Collection = collection
	}
	return resp
}

// indexRouter is IndexService over every collection.
type indexRouter struct {
	cariv1.UnimplementedIndexServiceServer
	r *router
}

func (s *indexRouter) DeleteDocuments(ctx context.Context, req *cariv1.DeleteDocumentsRequest) (*cariv1.DeleteDocumentsResponse, error) {
	svc, release, err := s.r.pick(ctx, req.GetCollection())
	if err != nil {
		return nil, err
	}
	defer release()
	return svc.index.DeleteDocuments(ctx, req)
}

func (s *indexRouter) GetStats(ctx context.Context, req *cariv1.GetStatsRequest) (*cariv1.GetStatsResponse, error) {
	svc, release, err := s.r.pick(ctx, req.GetCollection())
	if err != nil {
		return nil, err
	}
	defer release()
	return svc.index.GetStats(ctx, req)
}

func (s *indexRouter) Crawl(req *cariv1.CrawlRequest, stream cariv1.IndexService_CrawlServer) error {
	svc, release, err := s.r.pick(stream.Context(), req.GetCollection())
	if err != nil {
		return err
	}
	defer release()
	return svc.index.Crawl(req, stream)
}

func (s *indexRouter) Reindex(req *cariv1.ReindexRequest, stream cariv1.IndexService_ReindexServer) error {
	svc, release, err := s.r.pick(stream.Context(), req.GetCollection())
	if err != nil {
		return err
	}
	defer release()
	return svc.index.Reindex(req, stream)
}

// UpsertDocuments routes the stream by its first message's collection.
func (s *indexRouter) UpsertDocuments(stream cariv1.IndexService_UpsertDocumentsServer) error {
	first, err := stream.Recv()
	p := &peekedUpsert{IndexService_UpsertDocumentsServer: stream, first: first, firstErr: err}
	svc, release, perr := s.r.pick(stream.Context(), first.GetCollection())
	if perr != nil {
		return perr
	}
	defer release()
	p.name = first.GetCollection()
	return svc.index.UpsertDocuments(p)
}

// peekedUpsert gives back the message the router read first, and refuses a
// later one that names another collection.
type peekedUpsert struct {
	cariv1.IndexService_UpsertDocumentsServer
	first    *cariv1.UpsertDocumentsRequest
	firstErr error
	name     string
	read     bool
}

func (p *peekedUpsert) Recv() (*cariv1.UpsertDocumentsRequest, error) {
	if !p.read {
		p.read = true
		return p.first, p.firstErr
	}
	m, err := p.IndexService_UpsertDocumentsServer.Recv()
	if err == nil && m.GetCollection() != "" && m.GetCollection() != p.name {
		return nil, status.Errorf(codes.InvalidArgument, "collection: %q, but the stream's first message chose %q: one stream writes to one collection", m.GetCollection(), cmpOr(p.name, catalog.Default))
	}
	return m, err
}
