package crawler

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// A shared job is recrawled in passes, as a local crawl is by running it
// again: each page's lease ends with its record (validators, fingerprints,
// links) in the job's records and its entry in due, scored by when it is
// due again (SharedOptions.RecrawlAfter after its fetch). A worker that
// starts on a job whose pass has ended, with pages due, starts the next
// pass: those pages join their hosts' queues (a hundred per lease
// request), each leased once by one worker and asked with If-None-Match
// and If-Modified-Since; a 304 is "not_modified", leaves the index as it
// is, and follows the links remembered from the last fetch.

// passScript starts the job's next recrawl pass at time ARGV[2] (ms), when
// its current pass has ended (nothing leased, and nothing queued unless
// the page budget is spent) and pages are due: pages due by now belong to
// the new pass, its counts start from zero (the queue left by a spent
// budget stays queued), and robots.txt, and with it the sitemaps, is read
// again. It answers the new pass's number, or 0 when none was started.
var passScript = redis.NewScript(`
local p, now = ARGV[1], tonumber(ARGV[2])
local meta, st = p..'meta', p..'stats'
if redis.call('HGET', meta, 'state') == 'stopped' then return 0 end
if redis.call('ZCARD', p..'leases') > 0 then return 0 end
local cutoff = redis.call('HGET', meta, 'cutoff') or '-1'
local queued = tonumber(redis.call('HGET', st, 'queued') or '0')
local left = queued + redis.call('ZCOUNT', p..'due', '-inf', cutoff)
local fetched = tonumber(redis.call('HGET', st, 'fetched') or '0')
if left > 0 and fetched < tonumber(redis.call('HGET', meta, 'max_pages') or '0') then return 0 end
if redis.call('ZCOUNT', p..'due', '-inf', now) == 0 then return 0 end
redis.call('DEL', st, p..'fhosts', p..'robots', p..'smaps')
redis.call('HSET', st, 'queued', queued)
redis.call('HSET', meta, 'cutoff', now)
local pass = tonumber(redis.call('HGET', meta, 'pass') or '1') + 1
redis.call('HSET', meta, 'pass', pass)
return pass
`)

// startPass starts the job's next recrawl pass when it is due (see
// passScript).
func (s *sharedRun) startPass(ctx context.Context) error {
	var pass int64
	err := withRetry(ctx, s.c.log, "start a recrawl pass", func() error {
		var err error
		pass, err = passScript.Run(ctx, s.f.rdb, nil, s.f.prefix, nowMS()).Int64()
		return err
	})
	if err == nil && pass > 0 {
		s.c.log.Info("recrawl pass started: pages due are asked again whether they changed", "pass", pass)
	}
	return err
}
