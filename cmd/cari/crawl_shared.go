package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cari-search/cari/client"
	"github.com/cari-search/cari/crawler"
	"github.com/cari-search/cari/internal/flagconfig"
)

// sharedFlags make cari crawl a worker of a crawl job shared in Redis.
type sharedFlags struct {
	frontier, job, indexAddr, apiKeyFile string
	lease, recrawlAfter                  time.Duration
}

func (s *sharedFlags) register(fs *pflag.FlagSet, worker bool) {
	fs.StringVar(&s.frontier, "frontier", "", "redis://HOST:PORT/DB: the crawl job's shared frontier (default: local, in DATA/crawl)")
	fs.StringVar(&s.job, "job", "", "name of the shared crawl job (with --frontier)")
	if worker {
		fs.StringVar(&s.indexAddr, "index-addr", "", "HOST:PORT of a cari serve's gRPC API to index into (IndexService, admin key) instead of --data")
		fs.StringVar(&s.apiKeyFile, "api-key-file", "", "file holding --index-addr's admin key (default: $"+client.DefaultAPIKeyEnv+")")
		fs.DurationVar(&s.lease, "lease", crawler.DefaultLeaseTTL, "how long a worker's leases outlive its last heartbeat (with --frontier)")
		fs.DurationVar(&s.recrawlAfter, "recrawl-after", 0, "with --frontier, for a new job: how long after its fetch a page is due again (default: when the pass ends)")
	}
}

func (s *sharedFlags) check() error {
	if (s.frontier == "") != (s.job == "") || (s.indexAddr != "" && s.frontier == "") {
		return errors.New("--frontier redis://HOST:PORT/DB and --job NAME go together (and --index-addr needs them)")
	}
	return nil
}

// crawlToServer runs a worker of a shared job that indexes through a
// running cari serve, with no data directory of its own.
func crawlToServer(ctx context.Context, f *crawlFlags, opts crawler.Options, log *slog.Logger) (crawler.Progress, error) {
	c, err := client.Dial(f.shared.indexAddr, client.Options{APIKeyFile: f.shared.apiKeyFile})
	if err != nil {
		return crawler.Progress{}, err
	}
	defer c.Close()
	return f.runCrawler(ctx, c.Upserter(log), opts, filepath.Join(f.stack.dataDir, "crawl"), log)
}

// runCrawler runs the crawl into sink: shared with --frontier, else from
// the crawl state in stateDir (the collection's crawl/).
func (f *crawlFlags) runCrawler(ctx context.Context, sink crawler.Sink, opts crawler.Options, stateDir string, log *slog.Logger) (p crawler.Progress, err error) {
	var c *crawler.Crawler
	if f.shared.frontier == "" {
		c, err = crawler.Open(stateDir, sink, opts)
	} else {
		var fr *crawler.SharedFrontier
		if fr, err = crawler.OpenShared(f.shared.frontier, f.shared.job); err == nil {
			defer fr.Close()
			c, err = crawler.NewShared(ctx, fr, sink, opts, crawler.SharedOptions{LeaseTTL: f.shared.lease, RecrawlAfter: f.shared.recrawlAfter})
		}
	}
	if err != nil {
		return p, flagconfig.FieldError(err, crawlFlagNames)
	}
	defer func() {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}()
	return watchCrawl(ctx, c, log)
}

// newCrawlJobCmds are cari crawl status, stop and resume, on a shared job.
func newCrawlJobCmds() (cmds []*cobra.Command) {
	for use, short := range map[string]string{
		"status": "Print a shared crawl job's state: queued, leased, fetched, failed, per-host backlog, workers alive",
		"stop":   "Stop a shared crawl job: its workers finish their fetches, give back their leases and exit",
		"resume": "Let a stopped shared crawl job run again (start workers to crawl it)",
	} {
		var s sharedFlags
		var asJSON bool
		cmd := &cobra.Command{Use: use + " --frontier redis://HOST:PORT/DB --job NAME", Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if s.frontier == "" || s.check() != nil {
					return errors.New("give --frontier redis://HOST:PORT/DB and --job NAME")
				}
				f, err := crawler.OpenShared(s.frontier, s.job)
				if err != nil {
					return flagconfig.FieldError(err, nil)
				}
				defer f.Close()
				ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
				defer cancel()
				return f.Command(ctx, use, cmd.OutOrStdout(), asJSON)
			}}
		s.register(cmd.Flags(), false)
		cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as one JSON object")
		cmds = append(cmds, cmd)
	}
	return cmds
}
