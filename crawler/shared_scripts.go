package crawler

import "github.com/redis/go-redis/v9"

// The shared frontier's state changes are Lua scripts, each run by Redis
// atomically: a lease, the host's politeness slot and its next start time
// change together or not at all, whichever worker asks, so a host sees the
// same pace from ten workers as from one. ARGV[1] is always the job's key
// prefix (see jobKeys); the scripts touch only keys under it, so a job
// lives in one Redis node.
//
// The job's keys, after the prefix:
//
//	meta       hash: config (the job's scope, politeness and recrawl interval, JSON), state
//	           (running|stopped), max_pages, pass (the recrawl pass, 1 when absent), cutoff (ms:
//	           pages due by then belong to the pass)
//	stats      hash: the pass's queued, leased_pages, fetched, bytes, indexed, retries, requeued,
//	           hosts, skipped:REASON, errors:REASON
//	seen       hash: URL -> Q (queued), D (skipped for its depth, may come back nearer a seed),
//	           S (skipped), X (done)
//	q:HOST     list: the host's queued entries (JSON), oldest first; a sitemap's entry has
//	           "sitemap": 1 (named by robots.txt) or 2 (named by a sitemap index)
//	smaps      hash: host -> sitemap files queued for it in this pass (at most maxSitemapsPerHost)
//	records    hash: URL -> what its last fetch left for the next (urlRecord: validators,
//	           fingerprints, links; JSON)
//	due        sorted set: "HOST\tENTRY" -> when the page is due to be fetched again (ms)
//	canon      hash: rel="canonical" target -> the page whose canonical link queued it
//	corrupt    list: "HOST\tENTRY" of entries no worker could read, kept for the operator
//	hosts      sorted set: hosts with queued entries, scored by the earliest start (ms) of their
//	           next request; parkedScore while the host has no free slot
//	next       hash: host -> earliest start (ms) of its next request
//	busy       hash: host -> requests in flight
//	hdelay     hash: host -> delay between request starts (ms)
//	hpar       hash: host -> most requests in flight
//	robots     hash: host -> robots.txt as read (JSON)
//	robotslock:HOST  string with expiry: a worker is reading the host's robots.txt
//	leases     sorted set: lease -> expiry (ms); a lease is a page's URL, "S " and a sitemap's
//	           URL, or "R HOST"
//	lease      hash: lease -> {w: worker, h: host, s: 1 while it holds the host's slot,
//	           e: the entry (pages), p: the host's next start before the lease}
//	wl:WORKER  set: the worker's leases
//	grants     hash: worker -> its last lease request granted, the lease and the answer (JSON),
//	           kept as long as the lease
//	workers    sorted set: worker -> last heartbeat (ms)
//	delayed    sorted set: "HOST\tENTRY" -> when the retry is due (ms)
//	hashes     hash: content SHA-256 -> the URL indexed with it
//	sim:I:V    set: "SIMHASH URL" of pages whose SimHash has V as its I-th byte
//	fhosts     set: hosts that answered a page fetch

// parkedScore is a busy host's score in hosts: far beyond any time, so
// that a lease does not look at it until one of its requests ends.
const parkedScore = "1e15"

// luaUnpark is shared by the scripts that free a host's slot: a host with
// queued entries is ready again at its next start time. A worker's grant
// (see leaseScript) is forgotten with its lease.
const luaUnpark = `
local function forget(p, w, m)
  local g = redis.call('HGET', p..'grants', w)
  if g and cjson.decode(g).m == m then redis.call('HDEL', p..'grants', w) end
end
local function unpark(p, h, now)
  if redis.call('LLEN', p..'q:'..h) > 0 then
    local nxt = tonumber(redis.call('HGET', p..'next', h) or '0')
    redis.call('ZADD', p..'hosts', math.max(nxt, now), h)
  end
end
local function incr(p, field, n)
  redis.call('HINCRBY', p..'stats', field, n)
end
-- entryOf is a queued entry read, or nil when it cannot be (not JSON, no
-- URL): such an entry is set aside by corrupt rather than failing the
-- script, which would stop every worker of the job at the same entry.
local function entryOf(e)
  if not e then return nil end
  local ok, d = pcall(cjson.decode, e)
  if ok and type(d) == 'table' and type(d.url) == 'string' and d.url ~= '' then return d end
  return nil
end
-- corrupt completes an unreadable entry of host h as failed and keeps it
-- in the corrupt list; queued says whether it was counted as queued.
local function corrupt(p, h, e, queued)
  redis.call('RPUSH', p..'corrupt', h..'\t'..e)
  if queued then incr(p, 'queued', -1) end
  incr(p, 'errors:corrupt_entry', 1)
end
-- queue puts URL u's entry e at the end of host h's queue (delay and par
-- set the host's politeness when it is new).
local function queue(p, u, h, e, delay, par, now)
  redis.call('HSET', p..'seen', u, 'Q')
  redis.call('HSETNX', p..'hdelay', h, delay)
  redis.call('HSETNX', p..'hpar', h, par)
  redis.call('RPUSH', p..'q:'..h, e)
  incr(p, 'queued', 1)
  if not redis.call('ZSCORE', p..'hosts', h) then unpark(p, h, now) end
end
-- split cuts a "HOST\tENTRY" member in two; nil when it has no tab.
local function split(m)
  local i = string.find(m, '\t', 1, true)
  if not i then return nil end
  return string.sub(m, 1, i - 1), string.sub(m, i + 1)
end
`

// leaseScript hands worker ARGV[2] one task at time ARGV[3] (ms), leased
// for ARGV[4] ms: {"page", entry, host, lease, record or ""},
// {"sitemap", entry, host, lease}, {"robots", host}, {"wait", ms},
// {"done", reason} or {"stopped"}. ARGV[5] is the worker's request ID,
// which it keeps while it asks again: a request whose reply was lost (Redis
// ran the script, then stopped or dropped the connection before answering)
// gets the lease it was granted, not a second one beside an orphan that
// would hold a slot of its host and keep the job from ending. A host's robots.txt is read (by one
// worker) before its first page; a page is leased only while the host has
// a free slot, its delay has passed since the last start, and the page
// budget (max_pages minus pages fetched and leased) is not spent. Retries
// whose time has come, and pages due in the current recrawl pass, join
// their hosts' queues first; an entry that cannot be read is set aside
// (corrupt) and the next one taken.
var leaseScript = redis.NewScript(luaUnpark + `
local p, w, now, ttl, rq = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
-- A request asked again (its reply was lost) gets the lease it was
-- granted, while the worker still holds it, rather than a second one.
local g = rq and redis.call('HGET', p..'grants', w)
if g then
  g = cjson.decode(g)
  local raw = redis.call('HGET', p..'lease', g.m)
  if g.id == rq and raw and cjson.decode(raw).w == w then return g.a end
end
if redis.call('HGET', p..'meta', 'state') == 'stopped' then return {'stopped'} end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', p..'delayed', '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', p..'delayed', m)
  local h, e = split(m)
  if h then
    redis.call('RPUSH', p..'q:'..h, e)
    if not redis.call('ZSCORE', p..'hosts', h) then unpark(p, h, now) end
  else
    corrupt(p, '', m, true)
  end
end
local cutoff = redis.call('HGET', p..'meta', 'cutoff') or '-1'
for _, m in ipairs(redis.call('ZRANGEBYSCORE', p..'due', '-inf', cutoff, 'LIMIT', 0, 100)) do
  redis.call('ZREM', p..'due', m)
  local h, e = split(m)
  local d = entryOf(e)
  if d then
    queue(p, d.url, h, e, '0', '1', now)
  else
    corrupt(p, h or '', e or m, false)
  end
end
local st = p..'stats'
local maxp = tonumber(redis.call('HGET', p..'meta', 'max_pages') or '0')
local budget = maxp - tonumber(redis.call('HGET', st, 'fetched') or '0') - tonumber(redis.call('HGET', st, 'leased_pages') or '0')
local function take(h, lease, rec)
  local busy = redis.call('HINCRBY', p..'busy', h, 1)
  local par = tonumber(redis.call('HGET', p..'hpar', h) or '1')
  local delay = tonumber(redis.call('HGET', p..'hdelay', h) or '0')
  rec.p = tonumber(redis.call('HGET', p..'next', h) or '0')
  rec.w, rec.h, rec.s = w, h, 1
  redis.call('HSET', p..'next', h, now + delay)
  -- A host is in hosts only while it has queued entries: parked ones
  -- too, so that the script that frees a slot finds the queue to unpark.
  if redis.call('LLEN', p..'q:'..h) == 0 then
    redis.call('ZREM', p..'hosts', h)
  elseif busy >= par then
    redis.call('ZADD', p..'hosts', ` + parkedScore + `, h)
  else
    redis.call('ZADD', p..'hosts', now + delay, h)
  end
  redis.call('ZADD', p..'leases', now + ttl, lease)
  redis.call('HSET', p..'lease', lease, cjson.encode(rec))
  redis.call('SADD', p..'wl:'..w, lease)
end
local function grant(lease, a)
  if rq then redis.call('HSET', p..'grants', w, cjson.encode({id = rq, m = lease, a = a})) end
  return a
end
for _, h in ipairs(redis.call('ZRANGEBYSCORE', p..'hosts', '-inf', now, 'LIMIT', 0, 64)) do
  local busy = tonumber(redis.call('HGET', p..'busy', h) or '0')
  if busy >= tonumber(redis.call('HGET', p..'hpar', h) or '1') then
    redis.call('ZADD', p..'hosts', ` + parkedScore + `, h)
  elseif redis.call('HEXISTS', p..'robots', h) == 0 then
    if redis.call('SET', p..'robotslock:'..h, w, 'NX', 'PX', ttl) then
      take(h, 'R '..h, {})
      return grant('R '..h, {'robots', h})
    end
    -- another worker reads it; its robots script unparks the host
    redis.call('ZADD', p..'hosts', ` + parkedScore + `, h)
  elseif budget > 0 then
    local e = redis.call('LPOP', p..'q:'..h)
    local d = entryOf(e)
    while e and not d do
      corrupt(p, h, e, true)
      e = redis.call('LPOP', p..'q:'..h)
      d = entryOf(e)
    end
    if d then
      incr(p, 'queued', -1)
      incr(p, 'leased_pages', 1)
      if d.sitemap then
        local m = 'S '..d.url
        take(h, m, {e = e})
        return grant(m, {'sitemap', e, h, m})
      end
      take(h, d.url, {e = e})
      return grant(d.url, {'page', e, h, d.url, redis.call('HGET', p..'records', d.url) or ''})
    end
    redis.call('ZREM', p..'hosts', h)
  end
end
if redis.call('ZCARD', p..'leases') == 0 then
  if tonumber(redis.call('HGET', st, 'queued') or '0') <= 0 then return {'done', 'frontier_empty'} end
  if budget <= 0 then return {'done', 'max_pages'} end
end
local wait = 1000
local first = redis.call('ZRANGE', p..'hosts', 0, 0, 'WITHSCORES')
if first[2] then wait = math.min(wait, tonumber(first[2]) - now) end
local due = redis.call('ZRANGE', p..'delayed', 0, 0, 'WITHSCORES')
if due[2] then wait = math.min(wait, tonumber(due[2]) - now) end
return {'wait', tostring(math.max(wait, 1))}
`)

// leaseRecord is the start of the scripts that act on worker ARGV[2]'s
// lease ARGV[3]: they do nothing (and answer 0) when the lease is no
// longer the worker's, because it expired and went back to the queue.
const leaseRecord = luaUnpark + `
local p, w, m, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local raw = redis.call('HGET', p..'lease', m)
if not raw then return 0 end
local r = cjson.decode(raw)
if r.w ~= w then return 0 end
local function release()
  if r.s == 1 then
    r.s = 0
    redis.call('HINCRBY', p..'busy', r.h, -1)
    unpark(p, r.h, now)
  end
end
local function drop()
  redis.call('ZREM', p..'leases', m)
  redis.call('HDEL', p..'lease', m)
  redis.call('SREM', p..'wl:'..w, m)
  forget(p, w, m)
end
`

// releaseScript frees the lease's slot when its request ends. ARGV[5] ms
// holds the host back longer (Retry-After); ARGV[6] = 1 says no request
// was made (robots.txt disallowed the page), so the host's next start is
// put back as it was.
var releaseScript = redis.NewScript(leaseRecord + `
if r.s ~= 1 then return 0 end
local nxt = tonumber(redis.call('HGET', p..'next', r.h) or '0')
if ARGV[6] == '1' and r.p then nxt = math.min(nxt, r.p) end
nxt = math.max(nxt, now + tonumber(ARGV[5]))
redis.call('HSET', p..'next', r.h, nxt)
release()
redis.call('HSET', p..'lease', m, cjson.encode(r))
return 1
`)

// completeScript ends a page or sitemap lease with its outcome: ARGV[5]
// fetched (0/1), ARGV[6] bytes, ARGV[7] skip reason, ARGV[8] error reason,
// ARGV[9] indexed (0/1); for a retry ARGV[10] when it is due (ms) and
// ARGV[11] the entry to retry; else ARGV[12] the page's record ("" keeps
// the one it has), ARGV[13] its entry in due ("HOST\tENTRY") and ARGV[14]
// when it is due (ms), after the current pass in any case.
var completeScript = redis.NewScript(leaseRecord + `
release()
drop()
incr(p, 'leased_pages', -1)
if ARGV[5] == '1' then
  incr(p, 'fetched', 1)
  incr(p, 'bytes', tonumber(ARGV[6]))
  if redis.call('SADD', p..'fhosts', r.h) == 1 then incr(p, 'hosts', 1) end
end
if ARGV[10] ~= '' then
  redis.call('ZADD', p..'delayed', tonumber(ARGV[10]), r.h..'\t'..ARGV[11])
  incr(p, 'queued', 1)
  incr(p, 'retries', 1)
  return 1
end
if ARGV[13] ~= '' then
  redis.call('HSET', p..'seen', m, 'X')
  if ARGV[12] ~= '' then redis.call('HSET', p..'records', m, ARGV[12]) end
  local cutoff = tonumber(redis.call('HGET', p..'meta', 'cutoff') or '-1')
  redis.call('ZADD', p..'due', math.max(tonumber(ARGV[14]), cutoff + 1), ARGV[13])
end
if ARGV[7] ~= '' then incr(p, 'skipped:'..ARGV[7], 1) end
if ARGV[8] ~= '' then incr(p, 'errors:'..ARGV[8], 1) end
if ARGV[9] == '1' then incr(p, 'indexed', 1) end
return 1
`)

// robotsScript ends a robots lease: ARGV[5] is the robots.txt as read
// (JSON), ARGV[6] its Crawl-delay in ms (0: none), which when longer than
// the host's delay replaces it and makes the host sequential; from ARGV[7]
// on, the entries of the host's sitemaps to read, which go to the front of
// its queue.
var robotsScript = redis.NewScript(leaseRecord + luaSitemaps + `
sitemaps(p, r.h, 7)
redis.call('HSET', p..'robots', r.h, ARGV[5])
local cd = tonumber(ARGV[6])
local delay = tonumber(redis.call('HGET', p..'hdelay', r.h) or '0')
if cd > delay then
  delay = cd
  redis.call('HSET', p..'hdelay', r.h, cd)
  redis.call('HSET', p..'hpar', r.h, 1)
end
redis.call('HSET', p..'next', r.h, now + delay)
redis.call('DEL', p..'robotslock:'..r.h)
release()
drop()
return 1
`)

// requeueScript puts leases back: those that expired before ARGV[2] (ms),
// or with ARGV[3] set, every lease of worker ARGV[3] (one that stops).
// Their slots are freed and their pages queued again at the front of
// their hosts' queues.
var requeueScript = redis.NewScript(luaUnpark + `
local p, now, w = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local ms
if w ~= '' then
  ms = redis.call('SMEMBERS', p..'wl:'..w)
else
  ms = redis.call('ZRANGEBYSCORE', p..'leases', '-inf', now, 'LIMIT', 0, 256)
end
for _, m in ipairs(ms) do
  local raw = redis.call('HGET', p..'lease', m)
  if raw then
    local r = cjson.decode(raw)
    if r.s == 1 then redis.call('HINCRBY', p..'busy', r.h, -1) end
    if r.e then
      redis.call('LPUSH', p..'q:'..r.h, r.e)
      incr(p, 'queued', 1)
      incr(p, 'leased_pages', -1)
    else
      redis.call('DEL', p..'robotslock:'..r.h)
    end
    if w == '' then
      incr(p, 'requeued', 1)
      forget(p, r.w, m)
    end
    unpark(p, r.h, now)
    redis.call('SREM', p..'wl:'..r.w, m)
  end
  redis.call('ZREM', p..'leases', m)
  redis.call('HDEL', p..'lease', m)
end
if w ~= '' then
  redis.call('ZREM', p..'workers', w)
  redis.call('HDEL', p..'grants', w)
end
return #ms
`)

// renewScript is worker ARGV[2]'s heartbeat at ARGV[3] (ms): the leases
// it names from ARGV[5] on, those it holds, are extended to ARGV[4] ms from
// now (and their robots.txt locks with them) while they are still its own.
// Only those: a lease Redis records for the worker but the worker does not
// know of (granted in a reply that was lost, or ended by a write Redis lost
// in a crash) expires, and requeueScript frees its slot and queues its page
// again, rather than being renewed for ever while the job waits on it.
var renewScript = redis.NewScript(`
local p, w, now, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZADD', p..'workers', now, w)
for i = 5, #ARGV do
  local m = ARGV[i]
  local raw = redis.call('HGET', p..'lease', m)
  if raw and cjson.decode(raw).w == w then
    redis.call('ZADD', p..'leases', 'XX', now + ttl, m)
    if string.sub(m, 1, 2) == 'R ' then
      redis.call('PEXPIRE', p..'robotslock:'..string.sub(m, 3), ttl)
    end
  end
end
return 1
`)

// admitScript queues URLs not seen before in the job, or counts why not.
// ARGV[2] is now (ms); then per URL six values: URL, host, the reason it
// is skipped ("" to queue it), the entry (JSON), the host's delay (ms)
// and its most requests in flight (set when the host is new). A URL
// skipped for its depth ("depth") is queued when found again nearer a
// seed.
var admitScript = redis.NewScript(luaUnpark + `
local p, now = ARGV[1], tonumber(ARGV[2])
local queued = 0
for i = 3, #ARGV, 6 do
  local u, h, reason, e = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3]
  local seen = redis.call('HGET', p..'seen', u)
  if reason ~= '' then
    if not seen then
      redis.call('HSET', p..'seen', u, reason == 'depth' and 'D' or 'S')
      incr(p, 'skipped:'..reason, 1)
    end
  elseif not seen or seen == 'D' then
    if seen == 'D' then incr(p, 'skipped:depth', -1) end
    queue(p, u, h, e, ARGV[i+4], ARGV[i+5], now)
    queued = queued + 1
  end
end
return queued
`)
