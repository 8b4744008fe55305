// Package collections opens one collection of a data directory with its
// store and models: the store (local, or Qdrant), the embedding model and
// re-ranker that the caller or the collection's settings name, and a
// searcher on them. It is the one place, beside test fixtures and the
// benchmarks, that picks a concrete store; cari's commands open the
// collection they work on with it, and cari serve every collection.
package collections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/indexer/reindex"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/searcher/rerank"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
	"github.com/cari-search/cari/store/qdrant"
)

// Options say which collection to open and with what. The models' fields
// are the process's defaults; a collection's settings replace those the
// caller did not name itself (Given).
type Options struct {
	// DataDir holds the catalog (and, on the local store, the
	// collections' stores); Name is the collection or alias ("": Default).
	DataDir, Name string
	// Catalog, when set, is DataDir's open catalog, which the collection
	// uses and leaves open (a server holds one for all its collections);
	// nil opens it, and Close closes it.
	Catalog *catalog.Catalog
	// Store is "local" (or "") or "qdrant"; Qdrant configures the latter,
	// whose Alias is the base of every collection's (its Collection is
	// set from Name: qdrant.CollectionAlias).
	Store  string
	Qdrant qdrant.Options
	// Embed and Rerank configure the models; Embeds and Reranks say
	// whether the caller uses them at all (without, a collection's models
	// are not opened: cari gc reads manifests only).
	Embed embeddings.Config
	// Models, when set, shares loaded embedding models between the
	// collections opened with it (a server's): those naming the same
	// model hold one copy. Nil loads one per collection.
	Models          *embeddings.Shared
	Rerank          rerank.Config
	Embeds, Reranks bool
	// Given are the settings the caller named itself (flags on the command
	// line): they win over the collection's, and a collection created on
	// first use records them.
	Given catalog.Settings
	// Search configures the searcher; its re-ranker and model are the
	// collection's. EfSearch is the local vector index's (0: default).
	Search   searcher.Options
	EfSearch int
	// Rebuild opens a serving generation built with another analyzer or
	// model (cari reindex); EmbedCache caches the static model's vectors
	// too; MustExist opens only an existing collection holding an index
	// (the commands that only read), where otherwise a missing collection
	// is created.
	Rebuild, EmbedCache, MustExist bool
	// Logger receives the store's and models' messages; nil discards them.
	Logger *slog.Logger
	// ServeAddr is the gRPC address this process serves the data directory
	// on, if it does, recorded in its lock file (local.Options.ServeAddr).
	ServeAddr string

	// settingsModel: the collection's settings name the model, which must
	// then be there.
	settingsModel bool
}

// Collection is an open collection: its store, models and searcher.
type Collection struct {
	// Catalog is the data directory's catalog, Record this collection's
	// entry in it, and
	// Dir its directory (its store's, on the local store; the embedding
	// cache's and the crawl state's on either).
	Catalog *catalog.Catalog
	Record  catalog.Collection
	Dir     string
	// Local is the local store, nil on Qdrant; Index is the store every
	// reader and writer uses, whichever it is, and StoreName "local" or
	// "qdrant", as GetStats reports it.
	Local     *local.Store
	Index     store.Store
	StoreName string
	// Builds, Stored and GC are Index as a reindex target, as a reindex
	// source of its serving generation, and its collection of replaced
	// generations.
	Builds reindex.Target
	Stored reindex.Stored
	GC     func(keep int) ([]string, error)
	// Embedder is nil when keyword-only; Reranker nil when none.
	Embedder *embeddings.Provider
	Reranker searcher.Reranker
	Searcher *searcher.Searcher
	// Indexing configures indexers that write to Index (chunking and the
	// document embedder).
	Indexing indexer.Options
	Logger   *slog.Logger

	ownCatalog bool
	closeOnce  sync.Once
	closeErr   error
}

// Open opens the collection o names, creating it unless o.MustExist.
func Open(ctx context.Context, o Options) (*Collection, error) {
	if err := local.CheckEfSearch(o.EfSearch); err != nil {
		return nil, fmt.Errorf("--ef-search %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if w := analysis.IndonesianStemmingWarning(); w != "" {
		o.Logger.Warn(w)
	}
	c := &Collection{Logger: o.Logger, Dir: o.DataDir, Catalog: o.Catalog}
	if err := c.resolve(&o); err != nil {
		return nil, err
	}
	err := c.openModels(ctx, o)
	if err == nil {
		err = c.openStore(ctx, o)
	}
	if err != nil {
		c.closeModels()
		c.closeCatalog()
		return nil, err
	}
	return c, nil
}

// resolve finds (or creates) the collection in the catalog and takes its
// settings into o. On Qdrant too the catalog is the data directory's (see
// docs/OPERATIONS.md, Collections on Qdrant); Qdrant holds each
// collection's generations (qdrant.CollectionAlias).
func (c *Collection) resolve(o *Options) error {
	if c.Catalog == nil {
		cat, err := openCatalog(o.DataDir, o.catalogOptions(), o.ServeAddr)
		if err != nil {
			return err
		}
		c.Catalog, c.ownCatalog = cat, true
	}
	rec, err := c.Catalog.Ensure(o.Name, !o.MustExist, o.Given)
	if err == nil {
		err = checkStore(rec, o.Store)
	}
	if err != nil {
		c.closeCatalog()
		return err
	}
	c.Record, c.Dir = rec, c.Catalog.Dir(rec.Name)
	o.Qdrant.Collection = rec.Name
	o.Apply(rec.Settings)
	return nil
}

// catalogOptions are the options of the catalog o's process opens. On
// Qdrant a data directory without a catalog is made one even by the
// commands that only read (MustExist): its index is in Qdrant, and the
// directory was until collections only a cache. Deleting a collection
// there drops its Qdrant collections (qdrant.Drop).
func (o Options) catalogOptions() catalog.Options {
	co := catalog.Options{MustExist: o.MustExist, Logger: o.Logger}
	if o.Store == "qdrant" {
		qo, log := o.Qdrant, cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
		co.MustExist, co.Store = false, "qdrant"
		co.Drop = func(col catalog.Collection) error {
			qo.Collection = col.Name
			dropped, err := qdrant.Drop(context.Background(), qo)
			log.Info("dropped the qdrant collections of a deleted collection", "collection", col.Name, "qdrant", dropped)
			return err
		}
	}
	return co
}

// checkStore refuses to open a collection with another store than the one
// holding its documents: on the local store a collection made on Qdrant
// would look empty, and the reverse. Default is opened with either, as
// before collections.
func checkStore(rec catalog.Collection, storeName string) error {
	if rec.Name == catalog.Default {
		return nil
	}
	want := cmp.Or(rec.Store, "local")
	if got := cmp.Or(storeName, "local"); got != want {
		return fmt.Errorf("collection %s keeps its documents in the %s store: open it with --store %s, not %s", rec.Name, want, want, got)
	}
	return nil
}

// Apply takes the collection's settings s for the models the caller did
// not name itself.
func (o *Options) Apply(s catalog.Settings) {
	if o.Embeds && o.Given.Embedder == "" && s.Embedder != "" {
		o.Embed.Provider, o.settingsModel = s.Embedder, true
	}
	if o.Embeds && o.Given.EmbedModel == "" && s.EmbedModel != "" {
		o.Embed.Model, o.settingsModel = s.EmbedModel, true
	}
	if o.Reranks && o.Given.Reranker == "" && s.Reranker != "" {
		o.Rerank.Kind = s.Reranker
	}
}

func (c *Collection) openModels(ctx context.Context, o Options) error {
	if !o.Reranks {
		o.Rerank.Kind = rerank.KindNone
	}
	var err error
	rc := o.Rerank
	rc.ModelsDir, rc.Logger = o.Embed.ModelsDir, o.Logger
	if c.Reranker, err = rerank.New(rc); err != nil {
		return err
	}
	if !o.Embeds {
		return nil
	}
	c.Embedder, err = o.OpenEmbedder(ctx, c.Dir)
	return err
}

// OpenEmbedder opens the embedding model o names, caching its vectors in
// dir/embcache; nil means keyword only, also when the caller named no model
// and the default one is not fetched yet (embeddings.NewIfAny). The static
// model's vectors are cached only with EmbedCache: embedding them costs
// about a cache lookup.
func (o Options) OpenEmbedder(ctx context.Context, dir string) (*embeddings.Provider, error) {
	cfg := o.Embed
	if cfg.Provider != embeddings.ProviderStatic || o.EmbedCache {
		cfg.CacheDir = filepath.Join(dir, "embcache")
	}
	cfg.Logger = o.Logger
	named := o.Given.Embedder != "" || o.Given.EmbedModel != "" || o.settingsModel
	e, err := o.Models.NewIfAny(ctx, cfg, named)
	if err != nil {
		return nil, fmt.Errorf("--embedder %s: %w", cfg.Provider, err)
	}
	return e, nil
}

func (c *Collection) openStore(ctx context.Context, o Options) error {
	opts := local.Options{Logger: o.Logger, Rebuild: o.Rebuild, EfSearch: o.EfSearch, MustExist: o.MustExist, BM25: c.Record.Settings.BM25, ServeAddr: o.ServeAddr}
	sopts := o.Search
	sopts.Reranker, sopts.Rerank.Timeout, sopts.Rerank.TopN = c.Reranker, o.Rerank.Deadline(), min(sopts.Rerank.TopN, searcher.MaxRerankTopN)
	if c.Embedder != nil {
		info := c.Embedder.Model()
		opts.Vectors = local.VectorSpace{Model: info.ID(), Dim: info.Dim}
		c.Indexing.Embedder = c.Embedder
		sopts.Embedder, sopts.Model = c.Embedder, info.ID()
		sopts.Fusion = searcher.FusionForModel(info.Provider == embeddings.ProviderStatic)
	}
	c.Indexing.Language = c.Record.Settings.Language
	var err error
	switch o.Store {
	case "", "local":
		if c.Local, err = local.Open(c.Dir, opts); err == nil {
			c.Index, c.StoreName, c.Builds, c.Stored, c.GC = c.Local, "local", reindex.Builds(c.Local.BeginBuild), c.Local, c.Local.GC
		}
	case "qdrant":
		q, qo := (*qdrant.Store)(nil), o.Qdrant
		qo.Vectors, qo.Rebuild, qo.Logger = opts.Vectors, o.Rebuild, o.Logger
		qo.BM25 = cmp.Or(opts.BM25, qo.BM25) // the collection's, as on the local store
		if q, err = qdrant.Open(ctx, qo); err == nil {
			c.Index, c.StoreName, c.Builds, c.Stored, c.GC = q, "qdrant", reindex.Builds(q.BeginBuild), q, q.GC
		}
	default:
		err = fmt.Errorf("--store must be local or qdrant, got %q", o.Store)
	}
	if err != nil {
		return err
	}
	c.Searcher = searcher.New(c.Index, sopts)
	if c.Catalog != nil {
		// Every write path (index, crawl, the server's upserts and live
		// fetches) writes through Index, so each meets the limits.
		c.Index = c.Catalog.Bounded(c.Index, c.Record.Name)
	}
	return nil
}

// Close closes the store, the models and, if Open opened it, the catalog.
// It may be called again.
func (c *Collection) Close() error {
	return errors.Join(c.closeServing(), c.closeCatalog())
}

// closeServing closes the store and the models, once: a server reopening
// the collection with new settings closes them before its owner does.
func (c *Collection) closeServing() error {
	c.closeOnce.Do(func() { c.closeErr = errors.Join(c.Index.Close(), c.closeModels()) })
	return c.closeErr
}

// closeModels closes what Open opened before the store.
func (c *Collection) closeModels() error {
	var err error
	if c.Embedder != nil {
		err = c.Embedder.Close()
	}
	return errors.Join(err, rerank.Close(c.Reranker))
}

// closeCatalog closes the catalog if Open opened it.
func (c *Collection) closeCatalog() error {
	if !c.ownCatalog {
		return nil
	}
	c.ownCatalog = false
	return c.Catalog.Close()
}

// OpenCatalog opens dataDir's catalog for this process, creating it unless
// mustExist.
func OpenCatalog(dataDir string, mustExist bool, log *slog.Logger) (*catalog.Catalog, error) {
	return openCatalog(dataDir, catalog.Options{MustExist: mustExist, Logger: log}, "")
}

// openCatalog opens dataDir's catalog, recording this process (and the
// gRPC address it serves on, if any) in the lock file. Refused because
// another process holds the directory, the error is dirlock.ErrLocked (as
// store/local's), so that dirlock.ServerOf finds the server to ask instead
// (cari stats).
func openCatalog(dataDir string, co catalog.Options, serveAddr string) (*catalog.Catalog, error) {
	co.ServeAddr = serveAddr
	cat, err := catalog.Open(dataDir, co)
	if errors.Is(err, catalog.ErrLocked) {
		return nil, lockedError{err}
	}
	return cat, err
}

// lockedError is catalog.ErrLocked that says where to turn instead.
type lockedError struct{ error }

func (e lockedError) Error() string {
	return e.error.Error() + " (cari stats asks a running server instead)"
}

func (e lockedError) Unwrap() error { return e.error }

// Find opens dataDir's catalog, which must hold an index, and returns the
// collection name (or the one the alias name points at) and its directory,
// for the commands that open its store themselves (stats, verify, repair);
// the catalog holds the data directory until closed.
func Find(dataDir, name string, log *slog.Logger) (*catalog.Catalog, catalog.Collection, string, error) {
	cat, err := OpenCatalog(dataDir, true, log)
	if err != nil {
		return nil, catalog.Collection{}, "", err
	}
	col, err := cat.Resolve(name)
	if err != nil {
		cat.Close()
		return nil, col, "", err
	}
	return cat, col, cat.Dir(col.Name), nil
}

// Given are the settings that a command's model options name, as flags
// given on its command line (named reports which): they win over a
// collection's, and a collection the command creates records them.
func Given(named func(flag string) bool, embed embeddings.Config, rr rerank.Config) catalog.Settings {
	var s catalog.Settings
	if named("embedder") {
		s.Embedder = embed.Provider
	}
	if named("embed-model") {
		s.EmbedModel = embed.Model
	}
	if named("reranker") {
		s.Reranker = rr.Kind
	}
	return s
}
