package server

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/crawler"
	"github.com/cari-search/cari/indexer"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// CrawlOptions configure IndexService.Crawl. The zero value has crawling
// off (no StateDir); the other zero fields take the defaults below.
type CrawlOptions struct {
	// StateDir holds the crawl state (frontier, seen set, validators),
	// normally DATA/crawl. Empty: Crawl answers FAILED_PRECONDITION.
	StateDir string
	// AllowPrivate lets a request set allow_private; without it such a
	// request answers PERMISSION_DENIED.
	AllowPrivate bool
	// Contact is the User-Agent contact of requests that give none. When
	// both are empty the request answers INVALID_ARGUMENT.
	Contact string
	// DefaultMaxPages is max_pages when a request leaves it 0 (default
	// 1,000); MaxPages the most a request may ask (default 1,000,000).
	DefaultMaxPages, MaxPages int
	// MinHostDelay is the floor of a request's min_host_delay (default 1s;
	// negative: no floor); DefaultHostDelay is used when a request sets
	// none (default 1s; negative: no delay).
	MinHostDelay, DefaultHostDelay time.Duration
	// ProgressInterval is the time between progress messages. Default 1s.
	ProgressInterval time.Duration
	// AllowedNetworks are address ranges every crawl may reach although
	// they are private (an intranet); allow_private lifts the guard whole.
	AllowedNetworks []netip.Prefix
	// Resolver looks up host names for crawls; nil uses the system's.
	Resolver *net.Resolver
}

func (o CrawlOptions) withDefaults() CrawlOptions {
	if o.DefaultMaxPages <= 0 {
		o.DefaultMaxPages = 1000
	}
	if o.MaxPages <= 0 {
		o.MaxPages = 1_000_000
	}
	if o.MinHostDelay == 0 {
		o.MinHostDelay = time.Second
	}
	if o.DefaultHostDelay == 0 {
		o.DefaultHostDelay = time.Second
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = time.Second
	}
	return o
}

// maxHostDelay is the longest min_host_delay a request may ask for.
const maxHostDelay = time.Minute

// defaultCrawlDepth is max_depth when a request leaves it unset.
const defaultCrawlDepth = 3

// crawlService runs crawls for IndexService.Crawl, one at a time: a
// crawl's state file and the data directory's index take one writer.
type crawlService struct {
	opts     CrawlOptions
	store    IndexStore
	indexing indexer.Options
	log      *slog.Logger

	mu      sync.Mutex
	running bool
}

// indexServiceWithCrawl is the IndexService that serve registers: the
// document calls of indexService and Crawl from crawlService.
type indexServiceWithCrawl struct {
	*indexService
	crawls    *crawlService
	reindexes *reindexJobs
}

// withCrawl adds Crawl and Reindex to an index service.
func withCrawl(s *indexService, opts CrawlOptions, reindex ReindexOptions) *indexServiceWithCrawl {
	return &indexServiceWithCrawl{indexService: s, crawls: &crawlService{
		opts: opts.withDefaults(), store: s.store, indexing: s.indexing, log: s.log,
	}, reindexes: newReindexJobs(reindex, s.store, s.indexing, s.log)}
}

// Crawl runs a crawl on the server and streams its progress: a message
// every ProgressInterval and a last one with done set. A crawl whose
// stream ends early (the client cancelled or went away) stops with its
// state kept; the same request later continues it where it stopped.
func (s *indexServiceWithCrawl) Crawl(req *cariv1.CrawlRequest, stream cariv1.IndexService_CrawlServer) error {
	return s.crawls.crawl(req, stream)
}

func (s *crawlService) crawl(req *cariv1.CrawlRequest, stream cariv1.IndexService_CrawlServer) error {
	ctx := stream.Context()
	if s.opts.StateDir == "" {
		return status.Error(codes.FailedPrecondition, "crawling is not configured on this server")
	}
	opts, err := s.options(req)
	if err != nil {
		return err
	}
	if !s.start() {
		return status.Error(codes.FailedPrecondition, "a crawl is already running on this server; wait for it to end, or cancel its stream")
	}
	defer s.stop()

	ix, err := indexer.New(s.store, s.indexing)
	if err != nil {
		return statusOf(ctx, s.log, "Crawl", err)
	}
	c, err := crawler.Open(s.opts.StateDir, ix, opts)
	if err != nil {
		return statusOf(ctx, s.log, "Crawl", err)
	}
	defer c.Close()

	ran := make(chan error, 1)
	var final crawler.Progress
	go func() {
		p, err := c.Run(ctx)
		final = p
		ran <- err
	}()
	tick := time.NewTicker(s.opts.ProgressInterval)
	defer tick.Stop()
	for {
		select {
		case err := <-ran:
			if err != nil {
				return statusOf(ctx, s.log, "Crawl", err)
			}
			s.log.InfoContext(ctx, "crawl ended", "crawl_id", final.CrawlID, "fetched", final.Fetched, "indexed", final.Indexed, "stop_reason", final.StopReason)
			return stream.Send(progressMessage(final, true))
		case <-tick.C:
			p := c.Progress()
			if p.CrawlID == "" {
				continue // not started yet
			}
			if err := stream.Send(progressMessage(p, false)); err != nil {
				<-ran // the stream's context is done, so the crawl stops
				return err
			}
		}
	}
}

func (s *crawlService) start() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return false
	}
	s.running = true
	return true
}

func (s *crawlService) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = false
}

// options checks a request against the server's limits and turns it into
// crawler options; the crawler checks the rest (seeds, domains, patterns)
// and names the offending field itself.
func (s *crawlService) options(req *cariv1.CrawlRequest) (crawler.Options, error) {
	o := crawler.Options{
		Seeds:           req.GetSeeds(),
		AllowedDomains:  req.GetAllowedDomains(),
		Include:         req.GetIncludeUrlPatterns(),
		Exclude:         req.GetExcludeUrlPatterns(),
		AllowPrivate:    req.GetAllowPrivate(),
		AllowedNetworks: s.opts.AllowedNetworks,
		Resolver:        s.opts.Resolver,
		Contact:         req.GetUserAgentContact(),
		Logger:          s.log,
	}
	switch n := req.GetMaxPages(); {
	case n < 0 || int64(n) > int64(s.opts.MaxPages):
		return o, invalidArgument("max_pages", fmt.Sprintf("must be between 0 and %d, got %d", s.opts.MaxPages, n))
	case n == 0:
		o.MaxPages = s.opts.DefaultMaxPages
	default:
		o.MaxPages = int(n)
	}
	o.MaxDepth = defaultCrawlDepth
	if req.MaxDepth != nil {
		var err error
		if o.MaxDepth, err = crawler.Depth(int(req.GetMaxDepth())); err != nil {
			return o, invalidArgument("max_depth", err.(*cari.FieldError).Reason)
		}
	}
	if o.AllowPrivate && !s.opts.AllowPrivate {
		return o, status.Error(codes.PermissionDenied, "allow_private: this server does not allow crawling private addresses (start cari serve with --crawl-allow-private)")
	}
	if o.Contact == "" {
		o.Contact = s.opts.Contact
	}
	if o.Contact == "" {
		return o, invalidArgument("user_agent_contact", "empty, and the server has no default contact; give a URL or email address where site operators can reach you")
	}
	o.HostDelay = s.opts.DefaultHostDelay
	if d := req.GetMinHostDelay(); d != nil {
		if err := d.CheckValid(); err != nil {
			return o, invalidArgument("min_host_delay", err.Error())
		}
		delay := d.AsDuration()
		floor := max(s.opts.MinHostDelay, 0)
		if delay < floor || delay > maxHostDelay {
			return o, invalidArgument("min_host_delay", fmt.Sprintf("must be between %v and %v, got %v", floor, maxHostDelay, delay))
		}
		o.HostDelay = delay
	}
	if o.HostDelay <= 0 {
		o.HostDelay = -1 // no delay
	}
	return o, nil
}

// progressMessage turns crawler progress into the API's message; only the
// last one (final) says done.
func progressMessage(p crawler.Progress, final bool) *cariv1.CrawlProgress {
	m := &cariv1.CrawlProgress{
		CrawlId:        p.CrawlID,
		Fetched:        p.Fetched,
		Queued:         p.Queued,
		Indexed:        p.Indexed,
		Skipped:        p.Skipped,
		Errors:         p.Errors,
		PagesPerSecond: p.PagesPerSecond,
		Elapsed:        durationpb.New(p.Elapsed),
		Done:           final && p.Done,
	}
	if m.Done {
		reason := cariv1.CrawlStopReason_CRAWL_STOP_REASON_FRONTIER_EMPTY
		if p.StopReason == crawler.StopMaxPages {
			reason = cariv1.CrawlStopReason_CRAWL_STOP_REASON_MAX_PAGES
		}
		m.Summary = &cariv1.CrawlSummary{StopReason: reason, BytesFetched: p.BytesFetched, Hosts: p.Hosts, Unvisited: p.Queued}
	}
	return m
}
