// Package qdranttest is an in-process stand-in for a Qdrant server, for
// tests where no Qdrant can run. It speaks Qdrant's real gRPC protocol (the
// go-client's generated service interfaces) and implements, in memory and
// for real, the calls Cari makes: collections with named dense, multivector
// and sparse vectors, aliases, payload indexes, upsert, get, scroll, count,
// facet, delete, and the Query API with filters, sparse dot products with
// the IDF modifier, cosine and MaxSim, prefetch and RRF or DBSF fusion.
//
// It is not Qdrant: no HNSW (every search is exact), no segments,
// optimizers, shards, replication, persistence or consistency levels, and
// any call Cari does not make answers UNIMPLEMENTED. It also records every
// request, so tests can check field by field what Cari sends.
package qdranttest

import (
	"context"
	"crypto/subtle"
	"maps"
	"net"
	"slices"
	"sync"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Version is the Qdrant version the double reports in its health check.
const Version = "1.17.1"

// Request is one call the double received.
type Request struct {
	Method  string // full gRPC method name, e.g. /qdrant.Points/Query
	Message proto.Message
}

// Server is the double. Its methods are safe for concurrent use.
type Server struct {
	// APIKey, when set, is required in every request's api-key header.
	APIKey string

	mu          sync.Mutex
	collections map[string]*collection
	aliases     map[string]string
	requests    []Request
	snapshots   int
	addr        string
	beforeCall  func(method string)
}

// BeforeCall has f run before each call is handled, with the call's full
// method name, in the goroutine serving it: a test holds calls back with it
// to line up a race between clients. f must be safe for concurrent use.
func (s *Server) BeforeCall(f func(method string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeCall = f
}

// Addr returns the address Start serves on.
func (s *Server) Addr() string { return s.addr }

// New returns an empty double; Serve it, or use Start.
func New() *Server {
	return &Server{collections: map[string]*collection{}, aliases: map[string]string{}}
}

// Start serves a new double on a loopback port until the test ends and
// returns it with its address.
func Start(t testing.TB, apiKey string) (*Server, string) {
	t.Helper()
	s := New()
	s.APIKey = apiKey
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := s.GRPCServer()
	s.addr = lis.Addr().String()
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	return s, lis.Addr().String()
}

// GRPCServer returns a gRPC server with the double's services registered,
// for serving it outside a test.
func (s *Server) GRPCServer() *grpc.Server {
	g := grpc.NewServer(grpc.UnaryInterceptor(s.intercept), grpc.MaxRecvMsgSize(64<<20))
	qdrant.RegisterQdrantServer(g, qdrantAPI{Server: s})
	qdrant.RegisterCollectionsServer(g, collectionsAPI{Server: s})
	qdrant.RegisterPointsServer(g, pointsAPI{Server: s})
	qdrant.RegisterSnapshotsServer(g, snapshotsAPI{Server: s})
	return g
}

func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if s.APIKey != "" {
		md, _ := metadata.FromIncomingContext(ctx)
		got := md.Get("api-key")
		if len(got) != 1 || subtle.ConstantTimeCompare([]byte(got[0]), []byte(s.APIKey)) != 1 {
			return nil, status.Error(codes.Unauthenticated, "Invalid api-key")
		}
	}
	s.mu.Lock()
	if m, ok := req.(proto.Message); ok {
		s.requests = append(s.requests, Request{Method: info.FullMethod, Message: proto.Clone(m)})
	}
	before := s.beforeCall
	s.mu.Unlock()
	if before != nil {
		before(info.FullMethod)
	}
	return handler(ctx, req)
}

// Requests returns the requests received so far with the given method
// suffix ("Points/Query"), or all of them for "".
func (s *Server) Requests(method string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if method == "" || len(r.Method) >= len(method) && r.Method[len(r.Method)-len(method):] == method {
			out = append(out, r)
		}
	}
	return out
}

// The services, each on the shared state (their method names overlap).
type (
	qdrantAPI struct {
		qdrant.UnimplementedQdrantServer
		*Server
	}
	collectionsAPI struct {
		qdrant.UnimplementedCollectionsServer
		*Server
	}
	pointsAPI struct {
		qdrant.UnimplementedPointsServer
		*Server
	}
	snapshotsAPI struct {
		qdrant.UnimplementedSnapshotsServer
		*Server
	}
)

// HealthCheck answers the client's version check.
func (s qdrantAPI) HealthCheck(context.Context, *qdrant.HealthCheckRequest) (*qdrant.HealthCheckReply, error) {
	return &qdrant.HealthCheckReply{Title: "qdranttest", Version: Version}, nil
}

// lookup returns the collection a name or alias refers to. The caller holds
// s.mu.
func (s *Server) lookup(name string) (*collection, error) {
	if target, ok := s.aliases[name]; ok {
		name = target
	}
	c, ok := s.collections[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Not found: Collection `%s` doesn't exist!", name)
	}
	return c, nil
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

// Names returns the collections the double holds, sorted, and its aliases,
// for tests of how Cari names them.
func (s *Server) Names() (collections []string, aliases map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name := range s.collections {
		collections = append(collections, name)
	}
	slices.Sort(collections)
	return collections, maps.Clone(s.aliases)
}
