package client

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cari-search/cari"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// Upserter indexes documents on a cari serve through
// IndexService.UpsertDocuments (which needs an admin key on a server with
// keys). It is a crawler.Sink: Add queues a document, Flush sends the
// queue in one stream and returns once the server has made it durable,
// so crawl workers on many machines can write to one index.
type Upserter struct {
	c   *Client
	log *slog.Logger

	mu      sync.Mutex
	pending []*cariv1.Document
	// rejected counts documents the server refused.
	rejected int64
}

// Upserter returns an Upserter on the client's connection; log receives
// the documents the server refuses (nil discards).
func (c *Client) Upserter(log *slog.Logger) *Upserter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Upserter{c: c, log: log}
}

// Add queues d for the next Flush.
func (u *Upserter) Add(_ context.Context, d cari.Document) error {
	pd := &cariv1.Document{Id: d.ID, Url: d.URL, Title: d.Title, Text: d.Text, Author: d.Author, Language: d.Language}
	if !d.Published.IsZero() {
		pd.PublishedDate = timestamppb.New(d.Published)
	}
	if !d.Crawled.IsZero() {
		// The server refuses a crawl date after its own clock; a worker's
		// clock a little ahead must not lose the page.
		crawled := d.Crawled
		if now := time.Now(); crawled.After(now) {
			crawled = now
		}
		pd.CrawlDate = timestamppb.New(crawled)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.pending = append(u.pending, pd)
	return nil
}

// Flush sends the queued documents in one UpsertDocuments stream. A
// failed call keeps them queued for the next Flush (upserts are
// idempotent); documents the server refuses are logged and counted, not
// retried.
func (u *Upserter) Flush(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.pending) == 0 {
		return nil
	}
	stream, err := u.c.index.UpsertDocuments(u.c.withKey(ctx))
	if err != nil {
		return fmt.Errorf("upsert documents: %w", err)
	}
	for _, d := range u.pending {
		if err := stream.Send(&cariv1.UpsertDocumentsRequest{Document: d}); err != nil {
			_, err = stream.CloseAndRecv() // the status says why the stream broke
			return fmt.Errorf("upsert documents: %w", err)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return fmt.Errorf("upsert documents: %w", err)
	}
	for _, e := range resp.GetErrors() {
		u.log.Warn("document refused by the index", "url", e.GetUrl(), "field", e.GetField(), "reason", e.GetMessage())
	}
	u.rejected += resp.GetFailed()
	u.pending = u.pending[:0]
	return nil
}

// Rejected counts the documents the server refused so far.
func (u *Upserter) Rejected() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.rejected
}
