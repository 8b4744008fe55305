package client

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// keyEcho answers a search with the API key it was sent as the only
// result's id.
type keyEcho struct {
	cariv1.UnimplementedSearchServiceServer
}

func (keyEcho) Search(ctx context.Context, _ *cariv1.SearchRequest) (*cariv1.SearchResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	key := ""
	if v := md.Get(apiKeyHeader); len(v) > 0 {
		key = v[0]
	}
	return &cariv1.SearchResponse{Results: []*cariv1.Result{{Id: key}}}, nil
}

// statsEcho answers GetStats with the API key it was sent as the serving
// generation's name, and refuses a call without one.
type statsEcho struct {
	cariv1.UnimplementedIndexServiceServer
}

func (statsEcho) GetStats(ctx context.Context, _ *cariv1.GetStatsRequest) (*cariv1.GetStatsResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(apiKeyHeader); len(v) > 0 {
		return &cariv1.GetStatsResponse{ServingGeneration: v[0]}, nil
	}
	return nil, status.Error(codes.Unauthenticated, "missing API key")
}

func serve(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	cariv1.RegisterSearchServiceServer(srv, keyEcho{})
	cariv1.RegisterIndexServiceServer(srv, statsEcho{})
	hs := health.NewServer()
	hs.SetServingStatus(cariv1.SearchService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// TestSearchSendsKey: the key from the options, a key file or the
// environment goes with every search, and none without one.
func TestSearchSendsKey(t *testing.T) {
	addr := serve(t)
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(DefaultAPIKeyEnv, "from-env")
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{APIKey: "given"}, "given"},
		{Options{APIKeyFile: file}, "from-file"},
		{Options{}, "from-env"},
	} {
		c, err := Dial(addr, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := c.WaitServing(ctx, 5*time.Second, 10*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		resp, err := c.Search(ctx, &cariv1.SearchRequest{Query: "q"})
		cancel()
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.GetResults()[0].GetId(); got != tc.want {
			t.Errorf("%+v: server got key %q, want %q", tc.opts, got, tc.want)
		}
	}
	if _, err := Dial(addr, Options{APIKeyFile: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("a missing key file: no error")
	}
}

// TestAskStats: cari stats beside a server asks it with the key, and a
// refusal names the server.
func TestAskStats(t *testing.T) {
	addr := serve(t)
	t.Setenv(DefaultAPIKeyEnv, "")
	resp, err := AskStats(t.Context(), addr, "", Options{APIKey: "k"})
	if err != nil || resp.GetServingGeneration() != "k" {
		t.Errorf("AskStats with a key = %v, %v; want the server to get the key", resp, err)
	}
	_, err = AskStats(t.Context(), addr, "", Options{})
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), addr) {
		t.Errorf("AskStats without a key: %v, want Unauthenticated naming %s", err, addr)
	}
}
