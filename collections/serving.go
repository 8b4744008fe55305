package collections

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/cari-search/cari/embeddings"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/server"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
)

// Serving returns what a server needs to serve every collection of def's
// data directory beside def (the default collection, which the server's
// options hold): its catalog, and an opener of the others with o, the
// process's options. The process's model flags are the defaults of the
// collections whose settings name none; they do not override a
// collection's own (o.Given is dropped, but for default).
func Serving(def *Collection, o Options) *server.CollectionSet {
	if o.Models == nil {
		o.Models = embeddings.NewShared()
	}
	return &server.CollectionSet{Catalog: def.Catalog, CloseDefault: def.closeServing, Open: func(ctx context.Context, rec catalog.Collection) (*server.Collection, error) {
		oo := o
		oo.Name, oo.Catalog, oo.MustExist = rec.Name, def.Catalog, false
		if rec.Name != catalog.Default {
			// Default reopened after UpdateCollection keeps the flags it
			// was started with, as at the next start.
			oo.Given = catalog.Settings{}
		}
		c, err := Open(ctx, oo)
		if err != nil {
			return nil, err
		}
		return c.Served(), nil
	}}
}

// Served is c as a server serves it.
func (c *Collection) Served() *server.Collection {
	s := &server.Collection{
		Searcher: c.Searcher, Store: c.Index, StoreName: c.StoreName, Indexing: c.Indexing,
		Reindex:       server.ReindexOptions{Target: c.Builds, Stored: c.Stored, GC: c.GC},
		CrawlStateDir: filepath.Join(c.Dir, "crawl"), Close: c.Close,
	}
	if c.Embedder != nil {
		s.Reindex.Model = c.Embedder.Model().Name
	}
	return s
}

// SearchDirect answers req from the collection o names, in this process
// (cari search --data): it opens the collection, which must exist, runs
// req as SearchService would (server.SearchDirect) and closes it.
func SearchDirect(ctx context.Context, o Options, req *cariv1.SearchRequest) (*cariv1.SearchResponse, error) {
	if len(req.GetCollections()) > 0 {
		return nil, fmt.Errorf("collections %q: searching several collections at once needs a running cari serve (--addr); over a data directory, name one", req.GetCollections())
	}
	o.MustExist = true
	c, err := Open(ctx, o)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	resp, err := server.SearchDirect(ctx, c.Searcher, c.Index, req)
	for _, r := range resp.GetResults() {
		r.Collection = cmp.Or(c.Record.Name, catalog.Default)
	}
	return resp, err
}

// Stats returns the figures of the collection name of dataDir, opening
// its store (cari stats). When another process holds the directory the
// error is dirlock.ErrLocked, for dirlock.ServerOf.
func Stats(ctx context.Context, dataDir, name string, log *slog.Logger) (store.Stats, error) {
	cat, _, dir, err := Find(dataDir, name, log)
	if err != nil {
		return store.Stats{}, err
	}
	defer cat.Close()
	return local.StatsDir(ctx, dir, log)
}
