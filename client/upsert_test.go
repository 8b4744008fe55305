package client

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/cari-search/cari"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// upsertRecorder keeps the documents of every upsert stream sent with the
// admin key, refuses documents without a title, and fails the first
// stream when failFirst is set.
type upsertRecorder struct {
	cariv1.UnimplementedIndexServiceServer
	mu        sync.Mutex
	docs      []*cariv1.Document
	failFirst bool
}

func (r *upsertRecorder) UpsertDocuments(stream cariv1.IndexService_UpsertDocumentsServer) error {
	md, _ := metadata.FromIncomingContext(stream.Context())
	if k := md.Get(apiKeyHeader); len(k) == 0 || k[0] != "admin" {
		return status.Error(codes.PermissionDenied, "admin key needed")
	}
	resp := &cariv1.UpsertDocumentsResponse{}
	var got []*cariv1.Document
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		resp.Received++
		if m.GetDocument().GetTitle() == "" {
			resp.Failed++
			resp.Errors = append(resp.Errors, &cariv1.UpsertError{Url: m.GetDocument().GetUrl(), Field: "title", Message: "empty"})
			continue
		}
		got = append(got, m.GetDocument())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failFirst {
		r.failFirst = false
		return status.Error(codes.Unavailable, "restarting")
	}
	r.docs = append(r.docs, got...)
	resp.Indexed = int64(len(got))
	return stream.SendAndClose(resp)
}

// TestUpserterFlushes: Flush sends what Add queued with the key; a failed
// stream keeps the documents for the next Flush; refused documents are
// counted, not sent again.
func TestUpserterFlushes(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &upsertRecorder{failFirst: true}
	srv := grpc.NewServer()
	cariv1.RegisterIndexServiceServer(srv, rec)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	c, err := Dial(lis.Addr().String(), Options{APIKey: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u := c.Upserter(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	crawled := time.Now().Add(time.Hour) // a worker's clock ahead of the server's
	for _, d := range []cari.Document{
		{URL: "https://a.example/1", Title: "One", Text: "one", Crawled: crawled},
		{URL: "https://a.example/2", Text: "no title"},
	} {
		if err := u.Add(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := u.Flush(ctx); status.Code(err) != codes.Unavailable {
		t.Fatalf("first flush: %v, want the server's UNAVAILABLE", err)
	}
	if err := u.Flush(ctx); err != nil {
		t.Fatalf("second flush: %v", err)
	}
	if len(rec.docs) != 1 || rec.docs[0].GetUrl() != "https://a.example/1" || rec.docs[0].GetCrawlDate().AsTime().After(time.Now()) || u.Rejected() != 1 {
		t.Errorf("server got %v, %d rejected; want the titled document once, crawl date not in the future, 1 rejected", rec.docs, u.Rejected())
	}
	if err := u.Flush(ctx); err != nil || len(rec.docs) != 1 {
		t.Errorf("a flush with nothing queued: %v, %d documents", err, len(rec.docs))
	}
}
