package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/test/bufconn"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/server/research"
)

// Server is cari serve's network side: a gRPC server, an HTTP server (the
// gateway, /openapi.json, /metrics, /healthz and the search page), and an
// in-process gRPC server that the gateway calls, so that HTTP requests pass
// the same interceptors (keys, limits, deadlines, logs, metrics) as gRPC
// ones. Each transport has its own gRPC server so that shutdown can drain
// HTTP requests before the in-process server they need stops.
type Server struct {
	external *grpc.Server
	internal *grpc.Server
	health   *health.Server
	inproc   *bufconn.Listener
	conn     *grpc.ClientConn
	http     *http.Server
	cancel   context.CancelFunc
	closing  atomic.Bool
	log      *slog.Logger
	tracing  *Tracing
	// router holds the collections opened on request, closed at Shutdown.
	router *router
	// research runs the research tasks, stopped at Shutdown; nil: none.
	research *research.Service
}

// New builds the servers; Serve starts them.
func New(opts Options) (*Server, error) {
	opts.setDefaults()
	hs := newHealth()
	svc := newServices(opts)
	s := &Server{
		external: newGRPC(opts, svc, hs, transportGRPC),
		internal: newGRPC(opts, svc, hs, transportHTTP),
		health:   hs,
		log:      opts.Logger,
		tracing:  opts.Tracing,
		router:   svc.router,
	}
	reflection.Register(s.external)
	s.inproc = bufconn.Listen(1 << 20)
	conn, err := grpc.NewClient("passthrough:///cari-in-process", append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return s.inproc.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(opts.MaxSendBytes), grpc.MaxCallSendMsgSize(opts.MaxRecvBytes)),
	}, opts.Tracing.dialOptions()...)...)
	if err != nil {
		return nil, fmt.Errorf("in-process gRPC connection: %w", err)
	}
	s.conn = conn
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	handler, rs, err := newHTTPHandler(ctx, opts, svc.router, conn, hs)
	s.research = rs
	if err != nil {
		cancel()
		conn.Close()
		return nil, err
	}
	if rs != nil {
		// Before Serve, as gRPC requires: the tasks exist once the HTTP
		// side has made their manager.
		cariv1.RegisterResearchServiceServer(s.external, rs.GRPC())
	}
	s.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	go func() { _ = s.internal.Serve(s.inproc) }()
	return s, nil
}

// setDefaults fills the zero fields that New and newGRPC both rely on.
func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxRecvBytes <= 0 {
		o.MaxRecvBytes = DefaultMaxRecvBytes
	}
	if o.MaxSendBytes <= 0 {
		o.MaxSendBytes = DefaultMaxSendBytes
	}
}

// GRPC is the gRPC server, for registering more services before Serve.
func (s *Server) GRPC() *grpc.Server { return s.external }

// Handler is the HTTP side, for tests and for mounting elsewhere.
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Health is the health service that Shutdown turns NOT_SERVING.
func (s *Server) Health() *health.Server { return s.health }

// Serve answers gRPC on grpcLis and HTTP on httpLis (nil: no HTTP) until
// Shutdown, when it returns nil, or until either fails, when it returns
// that error and the caller should call Shutdown.
func (s *Server) Serve(grpcLis, httpLis net.Listener) error {
	errc := make(chan error, 2)
	go func() {
		if err := s.external.Serve(grpcLis); err != nil {
			errc <- fmt.Errorf("grpc: %w", err)
			return
		}
		errc <- nil
	}()
	if httpLis != nil {
		go func() {
			if err := s.http.Serve(httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http: %w", err)
				return
			}
			errc <- nil
		}()
	}
	err := <-errc
	if s.closing.Load() {
		return nil
	}
	return err
}

// tracingFlushTimeout bounds the export of the last spans at shutdown.
const tracingFlushTimeout = 5 * time.Second

// ServeUntil serves (Serve) until ctx is done, on SIGINT or SIGTERM, or
// serving fails; then it shuts down (Shutdown), letting requests in flight
// run for up to grace, and flushes the spans of Options.Tracing, the last
// of them those requests'. It returns the error that ended serving, if any.
func (s *Server) ServeUntil(ctx context.Context, grpcLis, httpLis net.Listener, grace time.Duration) error {
	served := make(chan error, 1)
	go func() { served <- s.Serve(grpcLis, httpLis) }()
	var serveErr error
	select {
	case serveErr = <-served:
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		s.log.Warn("in-flight requests did not finish in time; closed them", "error", err)
	}
	tctx, tcancel := context.WithTimeout(context.Background(), tracingFlushTimeout)
	defer tcancel()
	if err := s.tracing.Shutdown(tctx); err != nil {
		s.log.Warn("flushing traces", "error", err)
	}
	if serveErr != nil {
		return serveErr
	}
	if err := <-served; err != nil {
		s.log.Warn("serve returned", "error", err)
	}
	return nil
}

// Shutdown stops taking requests and lets those in flight finish until ctx
// is done; then it cuts off what is left and returns ctx's error. Health
// answers NOT_SERVING from the start, so load balancers drain the server.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.health.Shutdown()
	if s.research != nil {
		// First, so that the tasks' streams end and their last tool calls
		// still find the in-process server.
		s.research.Close()
	}
	var wg sync.WaitGroup
	wg.Go(func() { gracefulStop(ctx, s.external) })
	wg.Go(func() {
		// HTTP requests call the in-process server, so it stops only once
		// they are done.
		if err := s.http.Shutdown(ctx); err != nil {
			_ = s.http.Close()
		}
		gracefulStop(ctx, s.internal)
	})
	wg.Wait()
	s.cancel()
	_ = s.conn.Close()
	if err := s.router.Close(); err != nil {
		s.log.Warn("closing the collections opened on request", "err", err)
	}
	return ctx.Err()
}

// gracefulStop drains srv, or stops it outright once ctx is done.
func gracefulStop(ctx context.Context, srv *grpc.Server) {
	done := make(chan struct{})
	go func() { srv.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		srv.Stop()
		<-done
	}
}
