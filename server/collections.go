package server

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"sync"

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
	// collection, when a request first names it, and closes the result on
	// DeleteCollection and at Close.
	Open func(ctx context.Context, c catalog.Collection) (*Collection, error)
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
// named. It checks that the caller's key may use the collection.
type router struct {
	base Options
	set  *CollectionSet
	def  services

	mu     sync.Mutex
	open   map[string]services
	closes map[string]func() error
}

func newRouter(opts Options, def services) *router {
	return &router{base: opts, set: opts.Collections, def: def, open: map[string]services{}, closes: map[string]func() error{}}
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

// pick returns the services of the collection name names.
func (r *router) pick(ctx context.Context, name string) (services, error) {
	col, err := r.resolve(ctx, name)
	if err != nil {
		return services{}, err
	}
	return r.serve(ctx, col)
}

// serve returns the services of col, which resolve returned, counting the
// request against it.
func (r *router) serve(ctx context.Context, col catalog.Collection) (services, error) {
	fullMethod, _ := grpc.Method(ctx)
	r.base.Metrics.routed(col.Name, fullMethod)
	return r.services(ctx, col)
}

// services returns the services of col, opening it on first use.
func (r *router) services(ctx context.Context, col catalog.Collection) (services, error) {
	if col.Name == catalog.Default {
		return r.def, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if svc, ok := r.open[col.Name]; ok {
		return svc, nil
	}
	c, err := r.set.Open(ctx, col)
	if err != nil {
		return services{}, status.Errorf(codes.Unavailable, "collection %q cannot be opened: %v", col.Name, err)
	}
	opts := r.base
	opts.Searcher, opts.Store, opts.StoreName, opts.Indexing = c.Searcher, c.Store, c.StoreName, c.Indexing
	opts.Reindex.Target, opts.Reindex.Stored, opts.Reindex.GC, opts.Reindex.Model = c.Reindex.Target, c.Reindex.Stored, c.Reindex.GC, c.Reindex.Model
	if opts.Crawl.StateDir != "" {
		opts.Crawl.StateDir = c.CrawlStateDir
	}
	svc := newCollectionServices(opts)
	r.open[col.Name], r.closes[col.Name] = svc, c.Close
	return svc, nil
}

// drop closes the open collection name, before it is deleted.
func (r *router) drop(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	closeFn := r.closes[name]
	delete(r.open, name)
	delete(r.closes, name)
	if closeFn == nil {
		return nil
	}
	return closeFn()
}

// Close closes every collection the router opened.
func (r *router) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	for name, closeFn := range r.closes {
		err = errors.Join(err, closeFn())
		delete(r.open, name)
		delete(r.closes, name)
	}
	return err
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
	col, svc, err := s.pick(ctx, req.GetCollection())
	if err != nil {
		return nil, err
	}
	resp, err := svc.search.Search(ctx, req)
	return inCollection(col, resp), err
}

func (s *searchRouter) FindSimilar(ctx context.Context, req *cariv1.FindSimilarRequest) (*cariv1.SearchResponse, error) {
	col, svc, err := s.pick(ctx, req.GetCollection())
	if err != nil {
		return nil, err
	}
	resp, err := svc.search.FindSimilar(ctx, req)
	return inCollection(col, resp), err
}

func (s *searchRouter) GetContents(ctx context.Context, req *cariv1.GetContentsRequest) (*cariv1.GetContentsResponse, error) {
	col, svc, err := s.pick(ctx, req.GetCollection())
	if err != nil {
		return nil, err
	}
	resp, err := svc.search.GetContents(ctx, req)
	for _, it := range resp.GetItems() {
		if it.Document != nil {
			it.Document.Collection = col
		}
	}
	return resp, err
}

// pick is router.pick that also returns the collection's name.
func (s *searchRouter) pick(ctx context.Context, name string) (string, services, error) {
	col, err := s.r.resolve(ctx, name)
	if err != nil {
		return "", services{}, err
	}
	svc, err := s.r.serve(ctx, col)
	return col.Name, svc, err
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
	svc, err := s.r.pick(ctx, req.GetCollection())
	if err != nil {
		return nil, err
	}
	return svc.index.DeleteDocuments(ctx, req)
}

func (s *indexRouter) GetStats(ctx context.Context, req *cariv1.GetStatsRequest) (*cariv1.GetStatsResponse, error) {
	svc, err := s.r.pick(ctx, req.GetCollection())
	if err != nil {
		return nil, err
	}
	return svc.index.GetStats(ctx, req)
}

func (s *indexRouter) Crawl(req *cariv1.CrawlRequest, stream cariv1.IndexService_CrawlServer) error {
	svc, err := s.r.pick(stream.Context(), req.GetCollection())
	if err != nil {
		return err
	}
	return svc.index.Crawl(req, stream)
}

func (s *indexRouter) Reindex(req *cariv1.ReindexRequest, stream cariv1.IndexService_ReindexServer) error {
	svc, err := s.r.pick(stream.Context(), req.GetCollection())
	if err != nil {
		return err
	}
	return svc.index.Reindex(req, stream)
}

// UpsertDocuments routes the stream by its first message's collection.
func (s *indexRouter) UpsertDocuments(stream cariv1.IndexService_UpsertDocumentsServer) error {
	first, err := stream.Recv()
	p := &peekedUpsert{IndexService_UpsertDocumentsServer: stream, first: first, firstErr: err}
	svc, perr := s.r.pick(stream.Context(), first.GetCollection())
	if perr != nil {
		return perr
	}
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
