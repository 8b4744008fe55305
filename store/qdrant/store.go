// Package qdrant is Cari's scale-out store: the documents of one index
// generation live in one Qdrant collection, one point per document, with a
// sparse BM25 vector of the analyzed body (IDF applied by Qdrant), the
// passage embeddings, and the document in the payload. A collection alias
// names the serving generation, so a reindex swaps it atomically and every
// stateless replica sees the swap at once. The first generation, made when
// the alias names none, has a fixed name (ALIAS-first; ALIAS.first for a
// Cari collection other than the default, see CollectionAlias), so that
// processes starting together on an empty Qdrant all open the one
// collection one of them created (see createFirstGeneration); later ones
// are named by their creation time.
//
// A point is a document, not a passage, so that Qdrant's fusion (which
// joins its inputs by point) fuses documents, as the local store's
// keyword and vector sides do. The passages are a multivector compared by
// MaxSim: with a one-vector query that is the cosine of the document's best
// passage, the local store's vector score. MaxSim is asymmetric, which an
// HNSW graph assumes a distance is not (Qdrant advises multivectors for
// re-scoring), so that multivector has no graph: a single vector per
// document, the mean of its passages, is HNSW-indexed and finds the
// candidates (Options.VectorOversample times the number wanted), which
// MaxSim then ranks, in one query.
package qdrant

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/internal/modelhttp"
	"github.com/cari-search/cari/store"
)

// Names of the vectors of a point.
const (
	denseVector = "dense"      // the passages, a MaxSim multivector
	meanVector  = "dense_mean" // their mean, HNSW-indexed for candidates
)

// sparseVector names the BM25 vector. Documents of every language share
// it (each with the terms of its own language's analysis and weights
// computed with that language's average length), so that Qdrant's IDF
// counts every document, as the local store's does; a query's terms in each
// language's analysis are matched only against that language's documents.
const sparseVector = "bm25"

// termsField names the payload field holding the analysed body of a body
// field, for phrase filters.
func termsField(field string) string { return "terms_" + field }

// formatVersion is the layout of points and payload this build writes;
// a collection of another format is refused.
const formatVersion = 2

// Points a Get asks for at most, and the largest response the client
// takes: room for that many documents at Cari's field limits (text up to
// cari.MaxTextBytes, and a margin for the title, author, URL and passage
// offsets). gRPC's default, 4 MiB, is less than one such document.
const (
	getBatch         = 100
	maxResponseBytes = getBatch * (cari.MaxTextBytes + 1<<20)
)

// DefaultAlias is the alias the serving generation is found under.
const DefaultAlias = "cari"

// DefaultAPIKeyEnv holds the API key when Options name neither a key nor
// a key file.
const DefaultAPIKeyEnv = "CARI_QDRANT_API_KEY"

// DefaultAddr is Qdrant's gRPC port on the local machine.
const DefaultAddr = "127.0.0.1:6334"

// Options configure a Store.
type Options struct {
	// Addr is Qdrant's gRPC address, host:port. Default DefaultAddr.
	Addr string
	// APIKey is sent with every request when set. It is never logged.
	// Empty: the key in APIKeyFile, or else $DefaultAPIKeyEnv (none is
	// fine for a cluster without keys).
	APIKey string
	// APIKeyFile holds the API key ("": $DefaultAPIKeyEnv), read from a
	// file so that it stays out of process listings.
	APIKeyFile string
	// TLS connects with TLS (verified against the system roots, or
	// TLSConfig when set).
	TLS       bool
	TLSConfig *tls.Config
	// Alias names the serving generation. Default DefaultAlias.
	Alias string
	// Collection is the Cari collection (store/catalog) this store holds;
	// "" and catalog's "default" are served under Alias itself, as before
	// collections existed. Another one is served under ALIAS.NAME (see
	// CollectionAlias).
	Collection string
	// Shards and Replicas are the shard number and replication factor of
	// collections this store creates; 0 leaves Qdrant's defaults (one
	// shard per node at creation, one copy). Qdrant's IDF modifier counts
	// the documents of each shard, not of the collection, so with several
	// shards a keyword score differs somewhat from the local store's (less
	// the larger the shards); qdranttest counts per shard as Qdrant does.
	Shards, Replicas uint32
	// Vectors is the embedding model of this process; the zero value is
	// keyword only. A collection records its model and refuses another.
	Vectors store.VectorSpace
	// BM25 parameters; zero means store.DefaultBM25.
	BM25 store.BM25
	// IndonesianBM25 are the Indonesian body field's BM25 parameters,
	// which BM25 does not change; zero means store.DefaultIndonesianBM25.
	// A collection records both and refuses other ones.
	IndonesianBM25 store.BM25
	// BatchBytes bounds the size of one upsert request. Default 16 MiB.
	BatchBytes int
	// VectorOversample is how many candidates the mean vectors find per
	// document wanted, for MaxSim to rank. Default 4; at least 100
	// candidates are always taken.
	VectorOversample int
	// Quantize keeps an int8 scalar-quantised copy of the mean vectors in
	// RAM (a quarter of float32's size) for the candidate search, in
	// collections this store creates.
	Quantize bool
	// Rebuild opens a serving generation embedded with another model than
	// Vectors, for a reindex to rebuild it: its documents can be read and
	// a new generation built, but not searched by vector or written.
	Rebuild bool
	// Logger receives start-up messages; nil discards them.
	Logger *slog.Logger

	// sep joins Alias and a generation's suffix (see collectionSep).
	sep string
}

// Store is an index generation in a Qdrant collection. It is safe for
// concurrent use, also by several processes on the same collection.
type Store struct {
	// client is set once, when the store is made; Close closes it (when
	// the store owns it) and sets closed, after which conn refuses.
	client   *qdrant.Client
	ownsConn bool
	closed   atomic.Bool
	opts     Options
	analysis *store.Analysis
	// target is what requests name: the alias for the serving store, so a
	// swap reaches every replica; the collection for a generation being
	// built.
	target string

	mu   sync.Mutex
	meta meta // of the collection target resolved to at Open (or Swap)
	// build is the generation a reindex is building, written to beside
	// this one; see building.
	build *Store
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("qdrant store is closed")

// Open connects to Qdrant and opens the generation the alias names,
// creating a first one when there is none.
func Open(ctx context.Context, opts Options) (*Store, error) {
	s, err := connect(opts)
	if err != nil {
		return nil, err
	}
	if err := s.openServing(ctx); err != nil {
		s.client.Close()
		return nil, err
	}
	return s, nil
}

// connect fills in opts' defaults and connects, opening no collection.
func connect(opts Options) (*Store, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Alias == "" {
		opts.Alias = DefaultAlias
	}
	opts.Alias, opts.sep = CollectionAlias(opts.Alias, opts.Collection), collectionSep(opts.Collection)
	if opts.APIKey == "" {
		key, err := modelhttp.LoadAPIKey(opts.APIKeyFile, DefaultAPIKeyEnv)
		if err != nil {
			return nil, fmt.Errorf("qdrant API key file: %w", err)
		}
		opts.APIKey = key
	}
	var err error
	if opts.BM25, opts.IndonesianBM25, err = store.ResolveBM25(opts.BM25, opts.IndonesianBM25); err != nil {
		return nil, err
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = 16 << 20
	}
	if opts.VectorOversample <= 0 {
		opts.VectorOversample = 4
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	analysis, err := store.NewAnalysis()
	if err != nil {
		return nil, err
	}
	client, err := dial(opts)
	if err != nil {
		return nil, err
	}
	return &Store{client: client, ownsConn: true, opts: opts, analysis: analysis, target: opts.Alias}, nil
}

func dial(opts Options) (*qdrant.Client, error) {
	host, portText, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("qdrant address %q: want host:port: %w", opts.Addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("qdrant address %q: bad port %q", opts.Addr, portText)
	}
	c, err := qdrant.NewClient(&qdrant.Config{
		Host: host, Port: port, APIKey: opts.APIKey, UseTLS: opts.TLS, TLSConfig: opts.TLSConfig,
		GrpcOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxResponseBytes))},
	})
	if err != nil {
		return nil, fmt.Errorf("connect to qdrant at %s: %w", opts.Addr, err)
	}
	return c, nil
}

// openServing resolves the alias, creating a first generation when it names
// none.
func (s *Store) openServing(ctx context.Context) error {
	coll, err := s.resolveAlias(ctx, s.opts.Alias)
	if err != nil {
		return err
	}
	if coll == "" {
		if coll, err = s.createFirstGeneration(ctx); err != nil {
			return err
		}
	}
	if err := s.loadMeta(ctx, coll); err != nil {
		return fmt.Errorf("open generation %s: %w", coll, err)
	}
	s.opts.Logger.Info("opened qdrant generation", "alias", s.opts.Alias, "collection", coll,
		"addr", s.opts.Addr, "vectors", s.current().Vectors.String())
	return nil
}

// resolveAlias returns the collection alias points to, or "" when there is
// no such alias.
func (s *Store) resolveAlias(ctx context.Context, alias string) (string, error) {
	all, err := s.aliases(ctx)
	return all[alias], err
}

// aliases maps every alias to its collection.
func (s *Store) aliases(ctx context.Context) (map[string]string, error) {
	client, err := s.conn()
	if err != nil {
		return nil, err
	}
	all, err := client.ListAliases(ctx)
	if err != nil {
		return nil, fmt.Errorf("list qdrant aliases at %s: %w", s.opts.Addr, err)
	}
	out := make(map[string]string, len(all))
	for _, a := range all {
		out[a.GetAliasName()] = a.GetCollectionName()
	}
	return out, nil
}

// follow takes up the collection the serving alias now names, when another
// process swapped it in: its metadata (average lengths, embedding model)
// then governs writes and queries. A store building a generation has no
// alias to follow.
func (s *Store) follow(ctx context.Context, serving string) error {
	if s.target != s.opts.Alias || serving == "" || serving == s.Collection() {
		return nil
	}
	if err := s.loadMeta(ctx, serving); err != nil {
		return fmt.Errorf("the serving generation is now %s: %w", serving, err)
	}
	s.opts.Logger.Info("following the swapped-in qdrant generation", "alias", s.opts.Alias, "collection", serving)
	return nil
}

// Collection returns the name of the collection this store reads and
// writes (the one the alias pointed to at Open).
func (s *Store) Collection() string { return s.current().Collection }

// Close closes the connection.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return ErrClosed
	}
	if s.ownsConn {
		return s.client.Close()
	}
	return nil
}

// conn returns the client, or ErrClosed.
func (s *Store) conn() (*qdrant.Client, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	return s.client, nil
}

// fieldBM25 returns the BM25 parameters of body field's weights.
func (o Options) fieldBM25(field string) store.BM25 {
	return store.FieldBM25(field, o.BM25, o.IndonesianBM25)
}
