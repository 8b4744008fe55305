package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/crawler"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/searcher/rerank"
)

// crawlFlags are cari crawl's settings.
type crawlFlags struct {
	stack           stackFlags
	seeds           []string
	seedsFile       string
	maxPages        int
	maxDepth        int
	allowedDomains  []string
	include         []string
	exclude         []string
	allowPrivate    bool
	allowNetworks   []string
	contact         string
	delay           time.Duration
	hostParallelism int
	concurrency     int
	timeout         time.Duration
	maxBody         int
	retries         int
	noSitemaps      bool
	fresh           bool
	batch           int
	asJSON          bool
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
known page only whether it changed (ETag, Last-Modified).`,
		Example: `  cari crawl --data data --seed https://docs.example.org/ --max-pages 5000 --contact https://example.org/bot
  cari crawl --data /tmp/py --seed http://127.0.0.1:8765/index.html --allow-private --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCrawl(cmd, g, &f) },
	}
	fs := cmd.Flags()
	f.stack.register(fs)
	f.stack.storage.register(fs)
	fs.StringArrayVar(&f.seeds, "seed", nil, "URL to start from (repeatable)")
	fs.StringVar(&f.seedsFile, "seeds-file", "", "file of seed URLs, one a line (# starts a comment)")
	fs.IntVar(&f.maxPages, "max-pages", 1000, "fetches (that got a response) before the crawl stops, counted across restarts")
	fs.IntVar(&f.maxDepth, "max-depth", 3, "link hops from a seed to follow; 0 fetches only the seeds")
	fs.StringArrayVar(&f.allowedDomains, "allowed-domain", nil, `domain the crawl may fetch from, with its subdomains (repeatable; "*": any; default: the seeds' domains)`)
	fs.StringArrayVar(&f.include, "include", nil, "RE2 pattern; a URL found by a link must match one (repeatable)")
	fs.StringArrayVar(&f.exclude, "exclude", nil, "RE2 pattern; a URL found by a link that matches is skipped (repeatable)")
	fs.BoolVar(&f.allowPrivate, "allow-private", false, "allow loopback, private, link-local and cloud-metadata addresses (tests, intranets)")
	fs.StringArrayVar(&f.allowNetworks, "allow-network", nil, "CIDR range allowed although private, e.g. 10.20.0.0/16 (repeatable)")
	fs.StringVar(&f.contact, "contact", "", "URL or email for site operators, sent in the User-Agent (default "+crawler.DefaultContact+")")
	fs.DurationVar(&f.delay, "delay", time.Second, "least time between requests to one host (a longer robots.txt Crawl-delay wins); unless set, none for loopback hosts")
	fs.IntVar(&f.hostParallelism, "host-parallelism", 1, "requests in flight to one host; unless set, 4 for loopback hosts")
	fs.IntVar(&f.concurrency, "concurrency", 16, "requests in flight over all hosts")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "time limit of one request")
	fs.IntVar(&f.maxBody, "max-body", 8<<20, "largest page in bytes; larger ones are skipped")
	fs.IntVar(&f.retries, "retries", 2, "retries, with backoff, of a fetch that timed out or got a 5xx answer")
	fs.BoolVar(&f.noSitemaps, "no-sitemaps", false, "do not read sitemaps")
	fs.BoolVar(&f.fresh, "fresh", false, "start over instead of resuming an interrupted crawl")
	fs.IntVar(&f.batch, "batch", indexer.DefaultBatchSize, "documents per atomic index write")
	fs.BoolVar(&f.asJSON, "json", false, "print the final summary as one JSON object")
	return cmd
}

func runCrawl(cmd *cobra.Command, g *globalFlags, f *crawlFlags) error {
	log, err := g.logger()
	if err != nil {
		return err
	}
	opts, err := f.options(cmd, log)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if !f.allowPrivate {
		for _, s := range opts.Seeds {
			var blocked *crawler.BlockedAddressError
			if err := crawler.CheckSeed(ctx, nil, s, opts.AllowedNetworks); errors.As(err, &blocked) {
				return fmt.Errorf("seed %s refused: %s is a %s address, and cari crawl does not connect to loopback, private, link-local or cloud-metadata addresses; pass --allow-private to crawl your own machine or an intranet (or --allow-network CIDR for one range)", s, blocked.Addr, blocked.Kind)
			}
		}
	}

	f.stack.rerank.Kind = rerank.KindNone // crawling never searches
	p, runErr := crawlInto(ctx, f, opts, log)
	if p.CrawlID == "" { // it never started
		return runErr
	}
	if f.asJSON {
		if err := writeCrawlJSON(cmd.OutOrStdout(), p); err != nil {
			return err
		}
	} else {
		writeCrawlSummary(cmd.OutOrStdout(), p)
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
	st, err := openStack(ctx, f.stack, log)
	if err != nil {
		return p, err
	}
	defer func() {
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	}()
	state, err := crawler.OpenState(filepath.Join(f.stack.dataDir, "crawl"))
	if err != nil {
		return p, err
	}
	defer func() {
		if cerr := state.Close(); err == nil {
			err = cerr
		}
	}()
	ixOpts := st.indexing
	ixOpts.BatchSize = f.batch
	ix, err := indexer.New(st.index, ixOpts)
	if err != nil {
		return p, err
	}
	c, err := crawler.New(state, ix, opts)
	if err != nil {
		return p, flagError(err)
	}
	done := make(chan struct{})
	stopped := reportCrawlProgress(c, log, done)
	p, err = c.Run(ctx)
	close(done)
	<-stopped
	return p, err
}

// options turns the flags into crawler options.
func (f *crawlFlags) options(cmd *cobra.Command, log *slog.Logger) (crawler.Options, error) {
	seeds := append([]string(nil), f.seeds...)
	if f.seedsFile != "" {
		fromFile, err := readSeeds(f.seedsFile)
		if err != nil {
			return crawler.Options{}, fmt.Errorf("--seeds-file: %w", err)
		}
		seeds = append(seeds, fromFile...)
	}
	if len(seeds) == 0 {
		return crawler.Options{}, errors.New("give at least one --seed (or --seeds-file)")
	}
	o := crawler.Options{
		Seeds:          seeds,
		MaxPages:       f.maxPages,
		MaxDepth:       f.maxDepth,
		AllowedDomains: f.allowedDomains,
		Include:        f.include,
		Exclude:        f.exclude,
		AllowPrivate:   f.allowPrivate,
		Contact:        f.contact,
		Concurrency:    f.concurrency,
		RequestTimeout: f.timeout,
		MaxBodyBytes:   f.maxBody,
		Retries:        f.retries,
		NoSitemaps:     f.noSitemaps,
		Fresh:          f.fresh,
		Logger:         log,
	}
	if f.maxPages < 1 {
		return o, fmt.Errorf("--max-pages must be at least 1, got %d", f.maxPages)
	}
	switch {
	case f.maxDepth < 0:
		return o, fmt.Errorf("--max-depth must be 0 or more, got %d", f.maxDepth)
	case f.maxDepth == 0:
		o.MaxDepth = crawler.SeedsOnly
	}
	if f.retries <= 0 {
		o.Retries = -1
	}
	// Unset, the crawler picks per host (none and 4 for loopback hosts).
	if cmd.Flags().Changed("delay") {
		o.HostDelay = noneIfZero(f.delay)
	}
	if cmd.Flags().Changed("host-parallelism") {
		o.HostParallelism = f.hostParallelism
	}
	for _, n := range f.allowNetworks {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			return o, fmt.Errorf("--allow-network %q: %w", n, err)
		}
		o.AllowedNetworks = append(o.AllowedNetworks, p.Masked())
	}
	if f.contact == "" {
		log.Info("no --contact given; the User-Agent names " + crawler.DefaultContact + ": give your own so that site operators can reach you")
	}
	return o, nil
}

func readSeeds(path string) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var seeds []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			seeds = append(seeds, line)
		}
	}
	return seeds, sc.Err()
}

// crawlFlagNames maps the crawler's field names to cari crawl's flags.
var crawlFlagNames = map[string]string{
	"seeds": "--seed", "max_depth": "--max-depth", "allowed_domains": "--allowed-domain",
	"include_url_patterns": "--include", "exclude_url_patterns": "--exclude", "user_agent_contact": "--contact",
}

func flagError(err error) error {
	var fe *cari.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	name, index, _ := strings.Cut(fe.Field, "[")
	if flag, ok := crawlFlagNames[name]; ok {
		if index != "" {
			return fmt.Errorf("%s (number %s): %s", flag, strings.TrimSuffix(index, "]"), fe.Reason)
		}
		return fmt.Errorf("%s: %s", flag, fe.Reason)
	}
	return err
}

// reportCrawlProgress shows the crawl's progress until done is closed: a
// live line on a terminal, a log line every few seconds otherwise. The
// returned channel is closed once the reporter has cleaned up.
func reportCrawlProgress(c *crawler.Crawler, log *slog.Logger, done <-chan struct{}) <-chan struct{} {
	stopped := make(chan struct{})
	tty := term.IsTerminal(int(os.Stderr.Fd()))
	every := 5 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	go func() {
		defer close(stopped)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				if tty {
					fmt.Fprint(os.Stderr, "\r\033[K")
				}
				return
			case <-tick.C:
				p := c.Progress()
				if tty {
					fmt.Fprintf(os.Stderr, "\r\033[Kcrawling: %.1f pages/s, %d fetched, %d queued, %d indexed, %d errors",
						p.PagesPerSecond, p.Fetched, p.Queued, p.Indexed, p.ErrorCount())
					continue
				}
				log.Info("crawling", "pages_per_second", fmt.Sprintf("%.1f", p.PagesPerSecond), "fetched", p.Fetched,
					"queued", p.Queued, "indexed", p.Indexed, "errors", p.ErrorCount())
			}
		}
	}()
	return stopped
}

func writeCrawlJSON(w io.Writer, p crawler.Progress) error {
	return json.NewEncoder(w).Encode(map[string]any{
		"crawl_id":         p.CrawlID,
		"resumed":          p.Resumed,
		"done":             p.Done,
		"stop_reason":      p.StopReason,
		"fetched":          p.Fetched,
		"indexed":          p.Indexed,
		"queued":           p.Queued,
		"skipped":          p.Skipped,
		"errors":           p.Errors,
		"retries":          p.Retries,
		"bytes_fetched":    p.BytesFetched,
		"hosts":            p.Hosts,
		"fetched_this_run": p.FetchedThisRun,
		"elapsed_seconds":  p.Elapsed.Seconds(),
		"pages_per_second": p.PagesPerSecond,
	})
}

func writeCrawlSummary(w io.Writer, p crawler.Progress) {
	state := "interrupted"
	if p.Done {
		state = "finished (" + strings.ReplaceAll(string(p.StopReason), "_", " ") + ")"
	}
	fmt.Fprintf(w, "crawl %s %s: fetched %d pages (%d in this run, %.1fs, %.1f pages/s), indexed %d, %d queued\n",
		p.CrawlID, state, p.Fetched, p.FetchedThisRun, p.Elapsed.Seconds(), p.PagesPerSecond, p.Indexed, p.Queued)
	for _, part := range []struct {
		name string
		m    map[string]int64
	}{{"skipped", p.Skipped}, {"errors", p.Errors}} {
		if len(part.m) == 0 {
			continue
		}
		var items []string
		for _, k := range slices.Sorted(maps.Keys(part.m)) {
			items = append(items, fmt.Sprintf("%s %d", k, part.m[k]))
		}
		fmt.Fprintf(w, "%s: %s\n", part.name, strings.Join(items, ", "))
	}
}

// noneIfZero maps a zero duration flag to the negative value with which
// crawler and server options say "none" (their zero means "the default").
func noneIfZero(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
