package crawler

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// A shared crawl finds pages as a local one does: by links, redirects,
// the sitemaps robots.txt names (else /sitemap.xml) and rel="canonical".
// The worker that reads a host's robots.txt queues its sitemaps at the
// front of the host's queue; any worker leases one, politely like a page,
// and the pages it lists join the job at depth 1.

// Sitemap kinds in a queued entry: named by robots.txt (or the default
// /sitemap.xml), or by a sitemap index, whose own indexes are not followed.
const (
	topSitemap    = 1
	nestedSitemap = 2
)

// sharedEntry is an entry in a shared crawl's host queue: a page's, or
// with Sitemap set, a sitemap's.
type sharedEntry struct {
	entry
	Sitemap int `json:"sitemap,omitempty"`
}

// sitemapEntry is the queued entry of sitemap u.
func sitemapEntry(u string, nested bool) string {
	e := sharedEntry{entry: entry{URL: u, Depth: 1}, Sitemap: topSitemap}
	if nested {
		e.Sitemap = nestedSitemap
	}
	raw, _ := json.Marshal(e)
	return string(raw)
}

// luaSitemaps queues a host's sitemap entries, given from ARGV[from] on,
// at the front of its queue in their order, up to maxSitemapsPerHost files
// per host and pass.
var luaSitemaps = `
local function sitemaps(p, h, from)
  local taken = tonumber(redis.call('HGET', p..'smaps', h) or '0')
  local k = math.min(#ARGV - from + 1, ` + strconv.Itoa(maxSitemapsPerHost) + ` - taken)
  if k <= 0 then return 0 end
  for i = from + k - 1, from, -1 do redis.call('LPUSH', p..'q:'..h, ARGV[i]) end
  redis.call('HINCRBY', p..'smaps', h, k)
  incr(p, 'queued', k)
  return k
end
`

// sitemapsScript queues the sitemaps a sitemap index named for host
// ARGV[2] at time ARGV[3] (ms): their entries from ARGV[4] on.
var sitemapsScript = redis.NewScript(luaUnpark + luaSitemaps + `
local p, h, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local k = sitemaps(p, h, 4)
if k > 0 and not redis.call('ZSCORE', p..'hosts', h) then unpark(p, h, now) end
return k
`)

// nestedSitemapsCmd queues sitemapsScript for the sitemaps an outcome's
// sitemap index named, if any.
func (s *sharedRun) nestedSitemapsCmd(ctx context.Context, pipe redis.Pipeliner, o outcome, now int64) {
	if o.t.kind != taskSitemap || len(o.sitemaps) == 0 {
		return
	}
	args := []any{s.f.prefix, o.t.host.key, now}
	for _, u := range o.sitemaps {
		args = append(args, sitemapEntry(u, true))
	}
	sitemapsScript.Eval(ctx, pipe, nil, args...)
}

// canonScript follows page ARGV[3]'s rel="canonical" link to URL ARGV[4]
// at time ARGV[2] (ms), when the job has not seen the target: it queues
// the target (ARGV[5] host, ARGV[7] entry, ARGV[8] and ARGV[9] the host's
// delay and parallelism) and answers 1, and the page is skipped. The
// target remembers the page, so that the page fetched again (a lost reply,
// a lease that expired, a recrawl) is skipped again rather than indexed
// because its target is now seen.
var canonScript = redis.NewScript(luaUnpark + `
local p, now, src, u, h = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
if redis.call('HGET', p..'canon', u) == src then return 1 end
if redis.call('HEXISTS', p..'seen', u) == 1 then return 0 end
queue(p, u, h, ARGV[7], ARGV[8], ARGV[9], now)
redis.call('HSET', p..'canon', u, src)
return 1
`)

// followCanonical queues a page's rel="canonical" target, as the local
// committer's admitTarget does: only when it is in scope and no worker of
// the job has seen it, decided atomically, so that of two pages naming one
// unseen target exactly one is skipped for it. It reports whether the
// target was followed (the page is then skipped as "canonical").
func (s *sharedRun) followCanonical(ctx context.Context, o outcome) (bool, error) {
	e := o.t.e
	args := s.admitArgs([]any{s.f.prefix, nowMS(), e.URL}, o.redirect, e.Depth, e.Redirects+1, false)
	if args[5] != "" { // out of scope
		return false, nil
	}
	var n int64
	err := withRetry(ctx, s.c.log, "follow a canonical link", func() error {
		var err error
		n, err = canonScript.Run(ctx, s.f.rdb, nil, args...).Int64()
		return err
	})
	return n == 1, err
}

// corruptScript completes lease ARGV[3] of worker ARGV[2], whose entry
// ARGV[5] the worker could not read, as failed ("corrupt_entry"), and
// keeps the entry in the corrupt list.
var corruptScript = redis.NewScript(leaseRecord + `
release()
drop()
incr(p, 'leased_pages', -1)
corrupt(p, r.h, ARGV[5], false)
if string.sub(m, 1, 2) ~= 'S ' then redis.call('HSET', p..'seen', m, 'X') end
return 1
`)

// dropCorrupt completes a lease whose entry the worker cannot read: it
// would come back for ever if the lease were left to expire.
func (s *sharedRun) dropCorrupt(ctx context.Context, lease, raw string, cause error) {
	s.c.log.Error("unreadable entry in the shared frontier; completed as corrupt_entry and kept in its corrupt list",
		"entry", raw, "error", cause, "list", s.f.key("corrupt"))
	err := withRetry(ctx, s.c.log, "complete a corrupt entry", func() error {
		return corruptScript.Run(ctx, s.f.rdb, nil, s.f.prefix, s.worker, lease, nowMS(), raw).Err()
	})
	if err != nil {
		s.c.log.Warn("complete a corrupt entry", "lease", lease, "error", err)
		return
	}
	s.unhold(lease)
}
