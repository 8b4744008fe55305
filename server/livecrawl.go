package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"time"

	"github.com/cari-search/cari/crawler"
	"github.com/cari-search/cari/extract"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/server/exa"
)

// LiveCrawlOptions configure the live fetches of Exa's endpoints
// (livecrawl, maxAgeHours, subpages, extras). The zero value turns them
// off: the endpoints serve what the index holds.
type LiveCrawlOptions struct {
	// Enabled lets requests fetch pages live. Every page fetched is
	// written to the index, so a search key holder can add public pages
	// to it; that is why it is off unless the operator turns it on.
	Enabled bool
	// Contact is the User-Agent's contact. Default: Options.Crawl's.
	Contact string
	// AllowedNetworks are private address ranges live fetches may reach
	// (an intranet). Default: Options.Crawl's.
	AllowedNetworks []netip.Prefix
	// HostDelay is the least time between two live fetches from one host.
	// Default 1s (none for loopback); negative: none.
	HostDelay time.Duration
	// MaxBodyBytes is the largest page fetched. Default: the crawler's.
	MaxBodyBytes int
	// Resolver looks up host names; nil: Options.Crawl's, or the system's.
	Resolver *net.Resolver
}

// liveCrawler is exa.LiveCrawler on the crawler's Live fetcher, writing
// every page it fetches to the served index.
type liveCrawler struct {
	live     *crawler.Live
	store    IndexStore
	indexing indexer.Options
	log      *slog.Logger
}

// newLiveCrawler returns the live fetcher opts describe, or nil when live
// fetches are off.
func newLiveCrawler(opts Options) exa.LiveCrawler {
	lo := opts.LiveCrawl
	if !lo.Enabled || opts.Store == nil {
		return nil
	}
	co := crawler.Options{
		Contact:         lo.Contact,
		AllowedNetworks: lo.AllowedNetworks,
		HostDelay:       lo.HostDelay,
		MaxBodyBytes:    lo.MaxBodyBytes,
		Resolver:        lo.Resolver,
		Logger:          opts.Logger,
	}
	if co.Contact == "" {
		co.Contact = opts.Crawl.Contact
	}
	if co.AllowedNetworks == nil {
		co.AllowedNetworks = opts.Crawl.AllowedNetworks
	}
	if co.Resolver == nil {
		co.Resolver = opts.Crawl.Resolver
	}
	return &liveCrawler{live: crawler.NewLive(co), store: opts.Store, indexing: opts.Indexing, log: opts.Logger}
}

// LiveCrawl fetches u and writes the page to the index before returning.
func (l *liveCrawler) LiveCrawl(ctx context.Context, u string) (exa.LivePage, error) {
	p, err := l.live.Fetch(ctx, u)
	if err != nil {
		var le *crawler.LiveError
		if errors.As(err, &le) {
			l.log.DebugContext(ctx, "live fetch failed", "url", u, "reason", le.Reason, "error", err)
			return exa.LivePage{}, &exa.LiveFailure{Reason: le.Reason, HTTPStatus: le.Status, Err: err}
		}
		return exa.LivePage{}, &exa.LiveFailure{Reason: "fetch", Err: err}
	}
	ix, err := indexer.New(l.store, l.indexing)
	if err == nil {
		if err = ix.Add(ctx, p.Document); err == nil {
			err = ix.Flush(ctx)
		}
	}
	if err != nil {
		l.log.WarnContext(ctx, "live fetch: page not indexed", "url", p.Document.URL, "error", err)
		return exa.LivePage{}, &exa.LiveFailure{Reason: "index", Err: err}
	}
	pageURL, _ := url.Parse(p.Document.URL)
	text := func(v exa.TextView) (string, error) {
		return extract.SectionText(pageURL, p.Header, p.Body, v.Sections, v.HTML)
	}
	return exa.LivePage{URL: p.Document.URL, Title: p.Document.Title, Links: p.Links, ImageLinks: p.ImageLinks, Text: text}, nil
}
