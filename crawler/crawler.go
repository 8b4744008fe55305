// Package crawler fetches web pages politely and turns them into
// cari.Documents. It is built on colly: robots.txt (with Crawl-delay and
// Sitemap lines) is obeyed, every host gets its own rate limit, URLs are
// canonicalised and each fetched once per crawl, main text is extracted
// with readability, duplicates and near duplicates are dropped, and the
// frontier lives in a bbolt file so that a crawl killed at any moment
// continues where it stopped. Connections to loopback, private, link-local
// and cloud-metadata addresses are refused at dial time unless allowed.
//
// A crawl hands its documents to a Sink (an *indexer.Indexer is one) and
// records them as done only once the sink has flushed them.
package crawler

import (
	"context"
	"fmt"
	"time"

	"github.com/cari-search/cari"
)

// Version is the crawler's version in its User-Agent.
const Version = "1.0"

// DefaultContact is the contact URL in the User-Agent when the operator
// gives none: the page that says what Cari is.
const DefaultContact = "https://github.com/cari-search/cari"

// SeedsOnly as Options.MaxDepth fetches the seeds and nothing else.
const SeedsOnly = -1

// Depth converts a link depth as the API and cari crawl give it, where 0
// fetches only the seeds, to Options.MaxDepth, whose 0 takes the default.
// A depth outside 0 to MaxDepthLimit is a *cari.FieldError (max_depth).
func Depth(d int) (int, error) {
	switch {
	case d < 0 || d > MaxDepthLimit:
		return 0, &cari.FieldError{Field: "max_depth", Reason: fmt.Sprintf("must be between 0 and %d, got %d", MaxDepthLimit, d)}
	case d == 0:
		return SeedsOnly, nil
	}
	return d, nil
}

// Limits on what a crawl request may ask for.
const (
	MaxSeeds          = 1000
	MaxAllowedDomains = 1000
	MaxURLPatterns    = 100
	MaxPatternBytes   = 1024
	MaxDepthLimit     = 100
	MaxContactBytes   = 256
)

// Sink receives the documents a crawl extracts. *indexer.Indexer is one:
// Add validates and queues a document (a *cari.FieldError rejects it),
// Flush makes everything added so far durable.
type Sink interface {
	Add(ctx context.Context, doc cari.Document) error
	Flush(ctx context.Context) error
}

// StopReason is why a crawl ended.
type StopReason string

// The ways a crawl ends.
const (
	StopFrontierEmpty StopReason = "frontier_empty"
	StopMaxPages      StopReason = "max_pages"
)

// Progress is a crawl's state. Counts are totals for the crawl job, across
// restarts, except where said.
type Progress struct {
	CrawlID string
	// Resumed is true when this run continued an interrupted crawl.
	Resumed bool
	// Fetched counts fetches that got a response.
	Fetched int64
	// Queued is the number of URLs waiting in the frontier.
	Queued int64
	// Indexed counts documents the sink has flushed.
	Indexed int64
	// Skipped and Errors count URLs by the reason they were not fetched or
	// not indexed.
	Skipped, Errors map[string]int64
	// Retries counts fetches tried again after a timeout, a lost
	// connection or a 5xx answer.
	Retries      int64
	BytesFetched int64
	// Hosts counts distinct hosts that answered a page fetch.
	Hosts int64
	// FetchedThisRun and Elapsed are this run's; PagesPerSecond is their
	// ratio.
	FetchedThisRun int64
	Elapsed        time.Duration
	PagesPerSecond float64
	// Done is true once the crawl has ended; StopReason says why.
	Done       bool
	StopReason StopReason
}

// ErrorCount is the sum of Errors.
func (p Progress) ErrorCount() int64 {
	var n int64
	for _, v := range p.Errors {
		n += v
	}
	return n
}
