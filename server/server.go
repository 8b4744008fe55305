// Package server is Cari's transport: the gRPC services of cari.v1 on top
// of the searcher and a store, with the standard health and reflection
// services; the same API as HTTP/JSON through grpc-gateway, with the
// OpenAPI document, Prometheus metrics and the search page beside it; and
// API keys, rate and concurrency limits, deadlines, request logging and
// panic recovery for both. It chooses status codes; the stages below it
// return plain or typed errors.
package server

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/cari-search/cari/indexer"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/server/exa"
	"github.com/cari-search/cari/server/research"
)

// Options configure the server: its services, limits and transports.
type Options struct {
	// Searcher answers SearchService. Required.
	Searcher *searcher.Searcher
	// Store backs IndexService. Required.
	Store IndexStore
	// Indexing configures the indexer behind UpsertDocuments (chunking and
	// the document embedder), the same as cari index uses.
	Indexing indexer.Options
	// StoreName is reported by GetStats ("local" or "qdrant").
	StoreName string
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// MaxRecvBytes bounds one request message. Default 16 MiB: a document's
	// text may be up to 4 MiB (cari.MaxTextBytes) plus its other fields.
	MaxRecvBytes int
	// MaxSendBytes bounds one response message. Default 64 MiB: 100
	// results with their whole texts.
	MaxSendBytes int
	// MaxNumResults caps a search's num_results below the searcher's own
	// maximum (searcher.MaxNumResults). 0: the searcher's. A request over
	// it is refused in searcher.CheckNumResults' words; one that leaves
	// num_results unset gets the default or the cap, whichever is lower.
	MaxNumResults int
	// Keepalive configures HTTP/2 pings and idle connections; zero fields
	// take the defaults.
	Keepalive keepalive.ServerParameters
	// Guard checks API keys and applies rate, concurrency and time
	// limits. Nil: anyone may call anything, without limits.
	Guard *Guard
	// Metrics records Prometheus metrics. Nil: none.
	Metrics *Metrics
	// Tracing exports OpenTelemetry spans for every call. Nil: none.
	Tracing *Tracing
	// ServerOptions are added to the gRPC servers' options.
	ServerOptions []grpc.ServerOption
	// Crawl configures IndexService.Crawl; the zero value turns it off.
	Crawl CrawlOptions
	// Reindex configures IndexService.Reindex; the zero value turns it off.
	Reindex ReindexOptions
	// HTTP configures the HTTP/JSON side that New builds.
	HTTP HTTPOptions
	// Answer configures the LLM that writes Exa's answers, summaries, deep
	// search variations and output; the zero value answers extractively.
	Answer exa.AnswerOptions
	// URLTemplate builds the url that Exa's endpoints give a document
	// indexed without one (exa.Options.URLTemplate); "": cari:doc/ID.
	URLTemplate string
	// Collections, when set, serves every collection of a data directory:
	// Searcher, Store and the rest above are its default collection's.
	// Nil: the server serves default only.
	Collections *CollectionSet
	// LiveCrawl configures the live fetches of Exa's endpoints; the zero
	// value turns them off.
	LiveCrawl LiveCrawlOptions
	// Research configures Exa's Research API, whose agent runs on the
	// Answer LLM; no Dir turns it off. Exa, Chat and Logger are the
	// server's.
	Research research.Options
}

// DefaultKeepalive closes connections idle for 15 minutes, pings an idle
// client every 2 minutes and drops it when it does not answer in 20s.
var DefaultKeepalive = keepalive.ServerParameters{MaxConnectionIdle: 15 * time.Minute, Time: 2 * time.Minute, Timeout: 20 * time.Second}

// NewGRPC returns a gRPC server with cari.v1.SearchService,
// cari.v1.IndexService, grpc.health.v1.Health and reflection registered,
// and the Health returned to mark serving state (all services SERVING).
func NewGRPC(opts Options) (*grpc.Server, *health.Server) {
	hs := newHealth()
	srv := newGRPC(opts, newServices(opts), hs, transportGRPC)
	reflection.Register(srv)
	return srv, hs
}

// newHealth returns a health service with the whole server and each
// cari.v1 service SERVING.
func newHealth() *health.Server {
	hs := health.NewServer()
	for _, name := range []string{"", cariv1.SearchService_ServiceDesc.ServiceName, cariv1.IndexService_ServiceDesc.ServiceName, cariv1.CollectionService_ServiceDesc.ServiceName} {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	return hs
}

// services are the implementations of cari.v1, built once and registered
// on both gRPC servers (external and in-process), so that state such as a
// running crawl is shared by both transports.
type services struct {
	search     cariv1.SearchServiceServer
	index      cariv1.IndexServiceServer
	collection cariv1.CollectionServiceServer
	router     *router
	// store is a collection's store, for ListCollections' figures, and
	// indexing its indexer's options, for live fetches.
	store    IndexStore
	indexing indexer.Options
}

// newServices returns the services of every collection, each request
// routed to the one it names.
func newServices(opts Options) services {
	opts.setDefaults()
	r := newRouter(opts, newCollectionServices(opts))
	return services{search: &searchRouter{r: r}, index: &indexRouter{r: r}, collection: &collectionService{r: r}, router: r}
}

// newCollectionServices returns the services of one collection.
func newCollectionServices(opts Options) services {
	log := opts.Logger
	model := &servingModel{store: opts.Store}
	return services{
		search: &searchService{searcher: opts.Searcher, log: log, maxNumResults: opts.MaxNumResults, model: model},
		index: withCrawl(&indexService{store: opts.Store, indexing: opts.Indexing, storeName: opts.StoreName, log: log,
			examples: newExampleQueries(opts.Store, log)}, opts.Crawl, opts.Reindex),
		store:    opts.Store,
		indexing: opts.Indexing,
	}
}

// newGRPC returns a gRPC server with svc and hs registered, its
// interceptors labelled with transport.
func newGRPC(opts Options, svc services, hs *health.Server, transport string) *grpc.Server {
	opts.setDefaults()
	ka := opts.Keepalive
	if ka.MaxConnectionIdle == 0 {
		ka.MaxConnectionIdle = DefaultKeepalive.MaxConnectionIdle
	}
	if ka.Time == 0 {
		ka.Time = DefaultKeepalive.Time
	}
	if ka.Timeout == 0 {
		ka.Timeout = DefaultKeepalive.Timeout
	}
	log := opts.Logger
	opts.Metrics.watchStore(opts.Store)
	opts.Metrics.watchGuard(opts.Guard)
	unary := []grpc.UnaryServerInterceptor{recoverUnary(log), observeUnary(log, opts.Metrics, transport)}
	stream := []grpc.StreamServerInterceptor{recoverStream(log), observeStream(log, opts.Metrics, transport)}
	if opts.Guard != nil {
		internal := transport == transportHTTP
		unary = append(unary, opts.Guard.unary(opts.Metrics, internal))
		stream = append(stream, opts.Guard.stream(opts.Metrics, internal))
	}
	srv := grpc.NewServer(append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(opts.MaxRecvBytes),
		grpc.MaxSendMsgSize(opts.MaxSendBytes),
		grpc.KeepaliveParams(ka),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 20 * time.Second, PermitWithoutStream: true}),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	}, append(opts.Tracing.serverOptions(), opts.ServerOptions...)...)...)
	cariv1.RegisterSearchServiceServer(srv, svc.search)
	cariv1.RegisterIndexServiceServer(srv, svc.index)
	cariv1.RegisterCollectionServiceServer(srv, svc.collection)
	healthpb.RegisterHealthServer(srv, hs)
	return srv
}

// recoverUnary turns a panic in a handler into INTERNAL, so one bad request
// cannot take the server down; the stack goes to the log.
func recoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "panic in handler", "method", info.FullMethod, "panic", p, "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(ctx, req)
	}
}

func recoverStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ss.Context(), "panic in handler", "method", info.FullMethod, "panic", p, "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(srv, ss)
	}
}
