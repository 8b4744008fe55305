// Package client is a Go client of Cari's gRPC API: it dials a cari
// serve, sends the API key every call needs on a server with keys, and
// waits for the server to report SERVING. cari search, the load test
// (test/load) and crawl workers writing to a shared index (Upserter) use
// it, so the key's header and the dial options are written once.
package client

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/cari-search/cari/internal/modelhttp"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// DefaultAPIKeyEnv holds the API key when Options name no key file; no key
// is fine for a server without keys.
const DefaultAPIKeyEnv = "CARI_API_KEY"

// apiKeyHeader is the metadata key the server's guard reads the key from.
const apiKeyHeader = "x-api-key"

// Options configure a Client. The zero value dials without a key unless
// $DefaultAPIKeyEnv holds one.
type Options struct {
	// APIKey is sent with every call; empty: the key from APIKeyFile, or
	// else $DefaultAPIKeyEnv.
	APIKey string
	// APIKeyFile holds the key; "" reads $DefaultAPIKeyEnv.
	APIKeyFile string
}

// Client calls one cari serve's SearchService, and IndexService's GetStats
// (and UpsertDocuments, for an Upserter).
type Client struct {
	conn   *grpc.ClientConn
	search cariv1.SearchServiceClient
	index  cariv1.IndexServiceClient
	key    string
}

// Dial connects to the gRPC address addr (host:port), without TLS: Cari
// serves plain gRPC behind a proxy that terminates TLS. The connection is
// made lazily, by the first call. An unreadable key file is an error
// naming it.
func Dial(addr string, o Options) (*Client, error) {
	key := o.APIKey
	if key == "" {
		var err error
		if key, err = modelhttp.LoadAPIKey(o.APIKeyFile, DefaultAPIKeyEnv); err != nil {
			return nil, fmt.Errorf("API key file: %w", err)
		}
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", addr, err)
	}
	return &Client{conn: conn, search: cariv1.NewSearchServiceClient(conn), index: cariv1.NewIndexServiceClient(conn), key: key}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Search sends req with the API key, if any.
func (c *Client) Search(ctx context.Context, req *cariv1.SearchRequest) (*cariv1.SearchResponse, error) {
	return c.search.Search(c.withKey(ctx), req)
}

// InCollections points req at the collections a --collection flag names:
// one name (or alias), or several separated by commas, searched at once
// and fused by rank (SearchRequest.collections).
func InCollections(req *cariv1.SearchRequest, flag string) {
	names := strings.Split(flag, ",")
	if len(names) == 1 {
		req.Collection, req.Collections = flag, nil
		return
	}
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	req.Collection, req.Collections = "", names
}

// Stats asks the server for the statistics of collection ("": default)
// with GetStats, with the API key, if any: a search key may ask.
func (c *Client) Stats(ctx context.Context, collection string) (*cariv1.GetStatsResponse, error) {
	return c.index.GetStats(c.withKey(ctx), &cariv1.GetStatsRequest{Collection: collection})
}

// askStatsTimeout bounds AskStats: GetStats answers from the server's
// memory (its example queries wait at most 2 s), so a longer wait is a
// stuck server, which a command should report rather than wait on.
const askStatsTimeout = 10 * time.Second

// AskStats dials the server at addr, asks it for the statistics of
// collection (Stats),
// waiting at most 10 s, and closes the connection: for a command that asks
// once, as cari stats does beside a server holding its data directory.
func AskStats(ctx context.Context, addr, collection string, o Options) (*cariv1.GetStatsResponse, error) {
	c, err := Dial(addr, o)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, askStatsTimeout)
	defer cancel()
	resp, err := c.Stats(ctx, collection)
	if err != nil {
		return nil, fmt.Errorf("ask the server at %s: %w", addr, err)
	}
	return resp, nil
}

func (c *Client) withKey(ctx context.Context) context.Context {
	if c.key == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, apiKeyHeader, c.key)
}

// WaitServing asks the server's health service every poll until it says
// SearchService is SERVING, for at most wait; the error then says what the
// last answer was.
func (c *Client) WaitServing(ctx context.Context, wait, poll time.Duration) error {
	hc := healthpb.NewHealthClient(c.conn)
	end := time.Now().Add(wait)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		resp, err := hc.Check(c.withKey(cctx), &healthpb.HealthCheckRequest{Service: cariv1.SearchService_ServiceDesc.ServiceName})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("status %s", resp.GetStatus())
		}
		if time.Now().After(end) {
			return fmt.Errorf("server not serving after %v: %w", wait, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}
