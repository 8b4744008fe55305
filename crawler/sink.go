package crawler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cari-search/cari"
)

// feedSink hands documents to the sink and acknowledges them in the crawl
// state once a Flush has made them durable: first the documents an earlier
// run left unacknowledged, then those the committer sends. Flushes come
// every FlushEvery documents, FlushInterval after the last one, and at the
// end. It runs on a context that outlives cancellation, so that a crawl
// stopped by a signal still stores what it fetched.
func (c *Crawler) feedSink(ctx context.Context, jobID string, pending []cari.Document, in <-chan cari.Document) error {
	wctx := context.WithoutCancel(ctx)
	var ids, rejected []string
	flush := func() error {
		if len(ids) == 0 && len(rejected) == 0 {
			return nil
		}
		if err := c.sink.Flush(wctx); err != nil {
			return fmt.Errorf("index crawled documents: %w", err)
		}
		totals := c.live.addAcked(len(ids), len(rejected))
		if err := c.state.ack(jobID, append(ids, rejected...), totals); err != nil {
			return fmt.Errorf("acknowledge indexed documents: %w", err)
		}
		ids, rejected = ids[:0], rejected[:0]
		return nil
	}
	add := func(d cari.Document) error {
		err := c.sink.Add(wctx, d)
		var fe *cari.FieldError
		if errors.As(err, &fe) {
			c.log.Warn("document rejected by the index", "url", d.URL, "error", err)
			rejected = append(rejected, d.ID)
			return nil
		}
		if err != nil {
			return fmt.Errorf("index %s: %w", d.URL, err)
		}
		ids = append(ids, d.ID)
		if len(ids) >= c.opts.FlushEvery {
			return flush()
		}
		return nil
	}
	fail := func(err error) error {
		c.abort(err)
		for range in { // let the committer finish
		}
		return err
	}
	for _, d := range pending {
		if err := add(d); err != nil {
			return fail(err)
		}
	}
	tick := time.NewTicker(c.opts.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case d, ok := <-in:
			if !ok {
				if err := flush(); err != nil {
					return fail(err)
				}
				return nil
			}
			if err := add(d); err != nil {
				return fail(err)
			}
		case <-tick.C:
			if err := flush(); err != nil {
				return fail(err)
			}
		}
	}
}
