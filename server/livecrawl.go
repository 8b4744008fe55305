package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"time"

	"github.com/cari-search/cari"
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
// every page it fetches to the index of the collection the request names,
// which the router holds open until the page is written.
type liveCrawler struct {
	live   *crawler.Live
	router *router
	log    *slog.Logger
}

// newLiveCrawler returns the live fetcher opts describe, or nil when live
// fetches are off.
func newLiveCrawler(opts Options, r *router) exa.LiveCrawler {
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
	return &liveCrawler{live: crawler.NewLive(co), router: r, log: opts.Logger}
}

// LiveCrawl fetches u and writes the page to the index of collection
// ("": default) before returning. Exa's endpoints have read the collection
// through SearchService first, so the caller's key may use it.
func (l *liveCrawler) LiveCrawl(ctx context.Context, collection, u string) (exa.LivePage, error) {
	p, err := l.live.Fetch(ctx, u)
	if err != nil {
		var le *crawler.LiveError
		if errors.As(err, &le) {
			l.log.DebugContext(ctx, "live fetch failed", "url", u, "reason", le.Reason, "error", err)
			return exa.LivePage{}, &exa.LiveFailure{Reason: le.Reason, HTTPStatus: le.Status, Err: err}
		}
		return exa.LivePage{}, &exa.LiveFailure{Reason: "fetch", Err: err}
	}
	err = l.index(ctx, collection, p.Document)
	if err != nil {
		l.log.WarnContext(ctx, "live fetch: page not indexed", "url", p.Document.URL, "collection", collection, "error", err)
		return exa.LivePage{}, &exa.LiveFailure{Reason: "index", Err: err}
	}
	pageURL, _ := url.Parse(p.Document.URL)
	text := func(v exa.TextView) (string, error) {
		return extract.SectionText(pageURL, p.Header, p.Body, v.Sections, v.HTML)
	}
	return exa.LivePage{URL: p.Document.URL, Title: p.Document.Title, Links: p.Links, ImageLinks: p.ImageLinks, Text: text}, nil
}

// index writes doc to collection's index.
func (l *liveCrawler) index(ctx context.Context, collection string, doc cari.Document) error {
	svc, release, err := l.router.pick(ctx, collection)
	if err != nil {
		return err
	}
	defer release()
	ix, err := indexer.New(svc.store, svc.indexing)
	if err == nil {
		if err = ix.Add(ctx, doc); err == nil {
			err = ix.Flush(ctx)
		}
	}
	return err
}
