// Package server is Cari's transport: the gRPC services of cari.v1 on top
// of the searcher and a store, with the standard health and reflection
// services, request logging and panic recovery. It chooses status codes;
// the stages below it return plain or typed errors.
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
)

// Options configure the gRPC server.
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
}

// NewGRPC returns a gRPC server with cari.v1.SearchService,
// cari.v1.IndexService, grpc.health.v1.Health and reflection registered,
// and the Health returned to mark serving state (all services SERVING).
func NewGRPC(opts Options) (*grpc.Server, *health.Server) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxRecvBytes <= 0 {
		opts.MaxRecvBytes = 16 << 20
	}
	log := opts.Logger
	srv := grpc.NewServer(
		grpc.MaxRecvMsgSize(opts.MaxRecvBytes),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 15 * time.Minute, Time: 2 * time.Minute, Timeout: 20 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 20 * time.Second, PermitWithoutStream: true}),
		grpc.ChainUnaryInterceptor(recoverUnary(log), logUnary(log)),
		grpc.ChainStreamInterceptor(recoverStream(log), logStream(log)),
	)
	cariv1.RegisterSearchServiceServer(srv, &searchService{searcher: opts.Searcher, log: log})
	cariv1.RegisterIndexServiceServer(srv, &indexService{store: opts.Store, indexing: opts.Indexing, storeName: opts.StoreName, log: log})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	for _, name := range []string{"", cariv1.SearchService_ServiceDesc.ServiceName, cariv1.IndexService_ServiceDesc.ServiceName} {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	reflection.Register(srv)
	return srv, hs
}

func logUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		attrs := []any{"method", info.FullMethod, "code", status.Code(err).String(), "latency_ms", float64(time.Since(start).Microseconds()) / 1000}
		if r, ok := resp.(*cariv1.SearchResponse); ok {
			attrs = append(attrs, "results", len(r.GetResults()))
		}
		if err != nil {
			attrs = append(attrs, "error", status.Convert(err).Message())
		}
		log.InfoContext(ctx, "request", attrs...)
		return resp, err
	}
}

func logStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		attrs := []any{"method", info.FullMethod, "code", status.Code(err).String(), "latency_ms", float64(time.Since(start).Microseconds()) / 1000}
		if err != nil {
			attrs = append(attrs, "error", status.Convert(err).Message())
		}
		log.InfoContext(ss.Context(), "request", attrs...)
		return err
	}
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
