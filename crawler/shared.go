package crawler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cari-search/cari"
)

// DefaultLeaseTTL is how long a worker's lease on a URL lasts without a
// heartbeat: a worker that dies holds its pages (and its hosts' slots) at
// most this long before another worker takes them.
const DefaultLeaseTTL = 30 * time.Second

// SharedOptions are a shared crawl worker's settings beside its Options.
// The zero value is usable.
type SharedOptions struct {
	// LeaseTTL is how long the worker's leases outlive its last heartbeat.
	// Default DefaultLeaseTTL.
	LeaseTTL time.Duration
	// RecrawlAfter is how long after its fetch a page is due to be fetched
	// again (conditionally), for a pass started once the job's current one
	// has ended. Default 0: every page is due as soon as its pass ends, as
	// a local crawl run again asks every page whether it changed. The job's
	// first worker fixes it for the job.
	RecrawlAfter time.Duration
}

// maxRedisBackoff caps the wait between two tries while Redis is
// unreachable.
const maxRedisBackoff = 5 * time.Second

// jobNameRE is what a job name may be: it becomes part of Redis keys.
var jobNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// SharedFrontier is a crawl job's frontier in Redis, shared by every
// worker of the job on any machine: its queue, seen set, leases,
// robots.txt cache, per-host politeness state and content fingerprints.
// Create it with OpenShared; it is safe for concurrent use.
type SharedFrontier struct {
	rdb    *redis.Client
	job    string
	prefix string
}

// OpenShared connects to the Redis at redisURL (redis://[:PASSWORD@]HOST:PORT/DB,
// or rediss:// for TLS) for the crawl job named job. It makes no request:
// a worker waits for a Redis that is down.
func OpenShared(redisURL, job string) (*SharedFrontier, error) {
	if !jobNameRE.MatchString(job) {
		return nil, &cari.FieldError{Field: "job", Reason: fmt.Sprintf("%q: 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", job)}
	}
	o, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, &cari.FieldError{Field: "frontier", Reason: fmt.Sprintf("%q: %v (want redis://HOST:PORT/DB)", redisURL, err)}
	}
	o.MaxRetries = -1 // the worker retries with its own backoff
	return &SharedFrontier{rdb: redis.NewClient(o), job: job, prefix: jobPrefix(job)}, nil
}

// jobPrefix starts every Redis key of the job: one hash slot per job.
func jobPrefix(job string) string { return "cari:crawl:{" + job + "}:" }

// Close closes the connection to Redis.
func (f *SharedFrontier) Close() error { return f.rdb.Close() }

// Job is the job's name.
func (f *SharedFrontier) Job() string { return f.job }

func (f *SharedFrontier) key(k string) string { return f.prefix + k }

// jobConfig is what fixes a job when its first worker creates it: the
// scope and the politeness every worker follows.
type jobConfig struct {
	Seeds           []string      `json:"seeds"`
	AllowedDomains  []string      `json:"allowed_domains,omitempty"`
	Include         []string      `json:"include,omitempty"`
	Exclude         []string      `json:"exclude,omitempty"`
	MaxDepth        int           `json:"max_depth"`
	AllowPrivate    bool          `json:"allow_private,omitempty"`
	AllowedNetworks []string      `json:"allowed_networks,omitempty"`
	HostDelay       time.Duration `json:"host_delay,omitempty"`
	HostParallelism int           `json:"host_parallelism,omitempty"`
	MaxCrawlDelay   time.Duration `json:"max_crawl_delay,omitempty"`
	NoSitemaps      bool          `json:"no_sitemaps,omitempty"`
	RecrawlAfter    time.Duration `json:"recrawl_after,omitempty"`
}

func configOf(o Options, so SharedOptions) jobConfig {
	c := jobConfig{
		Seeds: o.Seeds, AllowedDomains: o.AllowedDomains, Include: o.Include, Exclude: o.Exclude,
		MaxDepth: o.MaxDepth, AllowPrivate: o.AllowPrivate, HostDelay: o.HostDelay,
		HostParallelism: o.HostParallelism, MaxCrawlDelay: o.MaxCrawlDelay,
		NoSitemaps: o.NoSitemaps, RecrawlAfter: so.RecrawlAfter,
	}
	for _, n := range o.AllowedNetworks {
		c.AllowedNetworks = append(c.AllowedNetworks, n.String())
	}
	return c
}

// apply puts the job's scope and politeness into a worker's options; the
// worker's own seeds are added to the job's.
func (c jobConfig) apply(o Options) (Options, error) {
	o.Seeds = append(slices.Clone(c.Seeds), o.Seeds...)
	o.AllowedDomains, o.Include, o.Exclude = c.AllowedDomains, c.Include, c.Exclude
	o.MaxDepth, o.AllowPrivate = c.MaxDepth, c.AllowPrivate
	o.HostDelay, o.HostParallelism, o.MaxCrawlDelay = c.HostDelay, c.HostParallelism, c.MaxCrawlDelay
	o.NoSitemaps = c.NoSitemaps
	o.AllowedNetworks = nil
	for _, s := range c.AllowedNetworks {
		n, err := netip.ParsePrefix(s)
		if err != nil {
			return o, fmt.Errorf("job's allowed network %q: %w", s, err)
		}
		o.AllowedNetworks = append(o.AllowedNetworks, n)
	}
	return o, nil
}

// join creates the job from the worker's options, or when it exists (the
// first worker created it) takes its scope, politeness and recrawl
// interval. The job's page budget is the largest any worker asked for.
func (f *SharedFrontier) join(ctx context.Context, o Options, so SharedOptions) (Options, jobConfig, error) {
	cfg := configOf(o, so)
	raw, err := json.Marshal(cfg)
	if err != nil {
		return o, cfg, err
	}
	var created bool
	err = withRetry(ctx, o.Logger, "join the crawl job", func() error {
		meta := f.key("meta")
		pipe := f.rdb.TxPipeline()
		set := pipe.HSetNX(ctx, meta, "config", raw)
		pipe.HSetNX(ctx, meta, "state", "running")
		pipe.HSetNX(ctx, meta, "created", time.Now().UTC().Format(time.RFC3339))
		get := pipe.HGet(ctx, meta, "config")
		maxp := pipe.HGet(ctx, meta, "max_pages")
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		created = set.Val()
		if n, _ := strconv.Atoi(maxp.Val()); o.MaxPages > n {
			if err := f.rdb.HSet(ctx, meta, "max_pages", o.MaxPages).Err(); err != nil {
				return err
			}
		}
		raw = []byte(get.Val())
		return nil
	})
	if err != nil || created {
		return o, cfg, err
	}
	var c jobConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return o, cfg, fmt.Errorf("crawl job %s: unreadable configuration in Redis: %w", f.job, err)
	}
	o, err = c.apply(o)
	return o, c, err
}

// newWorkerID names this worker in the job: host name, process and a
// random part, so that a restarted worker is a new one.
func newWorkerID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// withRetry runs op until it succeeds or ctx ends, waiting between tries
// with exponential backoff (from 100 ms to maxRedisBackoff) while Redis is
// unreachable. Errors that are not about the connection end it at once.
func withRetry(ctx context.Context, log interface {
	Warn(msg string, args ...any)
}, what string, op func() error) error {
	backoff := 100 * time.Millisecond
	warned := false
	for {
		err := op()
		if err == nil || !retryableRedis(err) {
			if err == nil && warned {
				log.Warn("redis reachable again; crawling on", "while", what)
			}
			return err
		}
		if !warned {
			log.Warn("redis unreachable; pausing with backoff", "while", what, "error", err)
			warned = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxRedisBackoff)
	}
}

// retryableRedis reports whether err is Redis being unreachable or not
// ready (restarting, loading its AOF) rather than a wrong request.
func retryableRedis(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		return strings.HasPrefix(msg, "LOADING") || strings.HasPrefix(msg, "BUSY") ||
			strings.HasPrefix(msg, "TRYAGAIN") || strings.HasPrefix(msg, "MASTERDOWN")
	}
	return true // a network error
}
