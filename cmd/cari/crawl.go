package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/crawler"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/internal/flagconfig"
	"github.com/cari-search/cari/internal/progress"
)

// crawlFlags are cari crawl's settings: most bind into crawler.Options,
// the rest say how to fill it.
type crawlFlags struct {
	stack           stackFlags
	opts            crawler.Options
	seedsFile       string
	allowNetworks   []string
	delay           time.Duration
	hostParallelism int
	batch           int
	asJSON          bool
	shared          sharedFlags
}

func newCrawlCmd(g *globalFlags) *cobra.Command {
	var f crawlFlags
	cmd := &cobra.Command{
		Use:   "crawl --seed URL [--seed URL ...]",
		Short: "Crawl web sites politely and index their pages",
		Long: `Crawl fetches pages from the seeds outwards, within the seeds' domains unless
--allowed-domain says otherwise, and indexes their main text into the data
directory through the same indexer as cari index.

It obeys robots.txt (rules for "Cari", Crawl-delay, Sitemap lines), waits
--delay between requests to a host, reads sitemaps, honours noindex and
nofollow, fetches each canonical URL once, and skips duplicate and
near-duplicate pages. It never connects to loopback, private, link-local or
cloud-metadata addresses unless --allow-private (or --allow-network) says so.

The crawl's frontier lives in DATA/crawl: a crawl stopped at any moment (even
by SIGKILL) continues where it stopped when the same command is run again. A
crawl that ran to its end is started afresh by the same command, asking each
known page only whether it changed (ETag, Last-Modified).

With --frontier redis://HOST:PORT/DB --job NAME the process is one worker of a
crawl job shared in Redis by any number of workers (docs/CRAWLER.md); it exits
0 when the job has no URL left. cari crawl status|stop|resume manage the job.`,
		Example: `  cari crawl --data data --seed https://docs.example.org/ --max-pages 5000 --contact https://example.org/bot
  cari crawl --data /tmp/py --seed http://127.0.0.1:8765/index.html --allow-private --json
  cari crawl --frontier redis://127.0.0.1:6379/0 --job docs --seed https://docs.example.org/ --index-addr 127.0.0.1:7700`,
		Args: cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error { return runCrawl(cmd, &f, log) }),
	}
	fs := cmd.Flags()
	f.stack.register(fs, embeds|onQdrant)
	o := &f.opts
	fs.StringArrayVar(&o.Seeds, "seed", nil, "URL to start from (repeatable)")
	fs.StringVar(&f.seedsFile, "seeds-file", "", "file of seed URLs, one a line (# starts a comment)")
	fs.IntVar(&o.MaxPages, "max-pages", crawler.DefaultMaxPages, "fetches (that got a response) before the crawl stops, counted across restarts")
	fs.IntVar(&o.MaxDepth, "max-depth", crawler.DefaultMaxDepth, "link hops from a seed to follow; 0 fetches only the seeds")
	fs.StringArrayVar(&o.AllowedDomains, "allowed-domain", nil, `domain the crawl may fetch from, with its subdomains (repeatable; "*": any; default: the seeds' domains)`)
	fs.StringArrayVar(&o.Include, "include", nil, "RE2 pattern; a URL found by a link must match one (repeatable)")
	fs.StringArrayVar(&o.Exclude, "exclude", nil, "RE2 pattern; a URL found by a link that matches is skipped (repeatable)")
	fs.BoolVar(&o.AllowPrivate, "allow-private", false, "allow loopback, private, link-local and cloud-metadata addresses (tests, intranets)")
	fs.StringArrayVar(&f.allowNetworks, "allow-network", nil, "CIDR range allowed although private, e.g. 10.20.0.0/16 (repeatable)")
	fs.StringVar(&o.Contact, "contact", "", "URL or email for site operators, sent in the User-Agent (default "+crawler.DefaultContact+")")
	fs.DurationVar(&f.delay, "delay", crawler.DefaultHostDelay, "least time between requests to one host (a longer robots.txt Crawl-delay wins); unless set, none for loopback hosts")
	fs.IntVar(&f.hostParallelism, "host-parallelism", crawler.DefaultHostParallelism, "requests in flight to one host; unless set, 4 for loopback hosts")
	fs.IntVar(&o.Concurrency, "concurrency", crawler.DefaultConcurrency, "requests in flight over all hosts")
	fs.DurationVar(&o.RequestTimeout, "timeout", crawler.DefaultRequestTimeout, "time limit of one request")
	fs.IntVar(&o.MaxBodyBytes, "max-body", crawler.DefaultMaxBodyBytes, "largest page in bytes; larger ones are skipped")
	fs.IntVar(&o.Retries, "retries", crawler.DefaultRetries, "retries, with backoff, of a fetch that timed out or got a 5xx answer")
	fs.BoolVar(&o.NoSitemaps, "no-sitemaps", false, "do not read sitemaps")
	fs.BoolVar(&o.Fresh, "fresh", false, "start over instead of resuming an interrupted crawl")
	fs.IntVar(&f.batch, "batch", indexer.DefaultBatchSize, "documents per atomic index write")
	fs.BoolVar(&f.asJSON, "json", false, "print the final summary as one JSON object")
	f.shared.register(fs, true)
	cmd.AddCommand(newCrawlJobCmds()...)
	return cmd
}

func runCrawl(cmd *cobra.Command, f *crawlFlags, log *slog.Logger) error {
	opts, err := f.options(cmd, log)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if !opts.AllowPrivate {
		for _, s := range opts.Seeds {
			var blocked *crawler.BlockedAddressError
			if err := crawler.CheckSeed(ctx, nil, s, opts.AllowedNetworks); errors.As(err, &blocked) {
				return fmt.Errorf("seed %s refused: %s is a %s address, and cari crawl does not connect to loopback, private, link-local or cloud-metadata addresses; pass --allow-private to crawl your own machine or an intranet (or --allow-network CIDR for one range)", s, blocked.Addr, blocked.Kind)
			}
		}
	}

	p, runErr := crawlInto(ctx, f, opts, log)
	if p.CrawlID == "" { // it never started
		return runErr
	}
	if f.asJSON {
		if err := p.WriteJSON(cmd.OutOrStdout()); err != nil {
			return err
		}
	} else {
		p.WriteSummary(cmd.OutOrStdout())
	}
	if errors.Is(runErr, context.Canceled) {
		return errors.New("crawl interrupted; run the same command again to continue it")
	}
	return runErr
}

// crawlInto opens the data directory and its crawl state (the store holds
// the directory's lock, so both live in this one process) and runs the
// crawl, feeding the same indexer as cari index.
func crawlInto(ctx context.Context, f *crawlFlags, opts crawler.Options, log *slog.Logger) (p crawler.Progress, err error) {
	if f.shared.indexAddr != "" {
		return crawlToServer(ctx, f, opts, log)
	}
	st, err := openStack(ctx, f.stack, log)
	if err != nil {
		return p, err
	}
	defer func() {
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	}()
	ixOpts := st.Indexing
	ixOpts.BatchSize = f.batch
	ix, err := indexer.New(st.Index, ixOpts)
	if err != nil {
		return p, err
	}
	return f.runCrawler(ctx, ix, opts, filepath.Join(st.Dir, "crawl"), log)
}

// watchCrawl runs the crawl with its live progress line.
func watchCrawl(ctx context.Context, c *crawler.Crawler, log *slog.Logger) (crawler.Progress, error) {
	done := make(chan struct{})
	stopped := progress.Watch("crawling", func() (string, []any) {
		p := c.Progress()
		return p.Line(), p.LogAttrs()
	}, log, done)
	p, err := c.Run(ctx)
	close(done)
	<-stopped
	return p, err
}

// options completes the crawler options the flags bound.
func (f *crawlFlags) options(cmd *cobra.Command, log *slog.Logger) (crawler.Options, error) {
	o := f.opts
	o.Seeds, o.Logger = slices.Clone(o.Seeds), log
	if f.seedsFile != "" {
		fromFile, err := crawler.ReadSeeds(f.seedsFile)
		if err != nil {
			return crawler.Options{}, fmt.Errorf("--seeds-file: %w", err)
		}
		o.Seeds = append(o.Seeds, fromFile...)
	}
	if err := f.shared.check(); err != nil {
		return o, err
	}
	if len(o.Seeds) == 0 && f.shared.frontier == "" {
		return crawler.Options{}, errors.New("give at least one --seed (or --seeds-file)")
	}
	if o.MaxPages < 1 {
		return o, fmt.Errorf("--max-pages must be at least 1, got %d", o.MaxPages)
	}
	var err error
	if o.MaxDepth, err = crawler.Depth(o.MaxDepth); err != nil {
		return o, flagconfig.FieldError(err, nil)
	}
	if o.Retries <= 0 {
		o.Retries = -1
	}
	// Unset, the crawler picks per host (none and 4 for loopback hosts).
	if cmd.Flags().Changed("delay") {
		o.HostDelay = noneIfZero(f.delay)
	}
	if cmd.Flags().Changed("host-parallelism") {
		o.HostParallelism = f.hostParallelism
	}
	o.AllowedNetworks, err = crawler.ParseNetworks("--allow-network", f.allowNetworks)
	return o, err
}

// crawlFlagNames are the crawler's option names whose flags are named
// otherwise.
var crawlFlagNames = map[string]string{
	"seeds": "--seed", "allowed_domains": "--allowed-domain", "include_url_patterns": "--include",
	"exclude_url_patterns": "--exclude", "user_agent_contact": "--contact",
}

// noneIfZero maps a zero duration flag to the negative value with which
// crawler and server options say "none" (their zero means "the default").
func noneIfZero(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
