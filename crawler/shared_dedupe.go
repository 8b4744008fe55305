package crawler

import (
	"context"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// claimHashScript records URL ARGV[3] as the page with content hash
// ARGV[2] and answers the URL that has it: ARGV[3] when it was free (or
// already its own). A page that claims a new text gives up the hash of its
// last one, ARGV[4] ("" for none).
var claimHashScript = redis.NewScript(`
local p, u = ARGV[1], ARGV[3]
local owner = u
if redis.call('HSETNX', p..'hashes', ARGV[2], u) == 0 then owner = redis.call('HGET', p..'hashes', ARGV[2]) end
if owner == u and ARGV[4] ~= '' and ARGV[4] ~= ARGV[2] and redis.call('HGET', p..'hashes', ARGV[4]) == u then
  redis.call('HDEL', p..'hashes', ARGV[4])
end
return owner
`)

// dedupe decides whether a document goes to the index in a shared crawl,
// as committer.dedupe does in a local one: not when its text is what the
// URL's last fetch had ("unchanged"), what another URL of the job has
// ("duplicate") or within nearDupBits SimHash bits of another's
// ("near_duplicate"). The exact check is atomic; two near duplicates
// fetched at the same moment by two workers may both be indexed. A page
// that goes to the index gives up its last text's fingerprints, and its
// record takes the new ones.
func (s *sharedRun) dedupe(ctx context.Context, o outcome) (string, error) {
	doc, rec, prev := o.doc, o.record, o.prev
	if prev == nil {
		prev = &urlRecord{}
	}
	if prev.Hash == doc.ContentHash {
		rec.Hash, rec.SimHash, rec.HasSimHash = prev.Hash, prev.SimHash, prev.HasSimHash
		return "unchanged", nil
	}
	var owner string
	err := withRetry(ctx, s.c.log, "check duplicates", func() error {
		var err error
		owner, err = claimHashScript.Run(ctx, s.f.rdb, nil, s.f.prefix, doc.ContentHash, doc.URL, prev.Hash).Text()
		return err
	})
	if err != nil {
		return "", err
	}
	if owner != doc.URL {
		return "duplicate", nil
	}
	rec.Hash, rec.SimHash, rec.HasSimHash = doc.ContentHash, o.simHash, o.hasSimHash
	if !o.hasSimHash {
		return "", s.forgetSimHash(ctx, prev, doc.URL)
	}
	// Two fingerprints at most 7 bits apart agree in at least one of
	// their 8 bytes (pigeonhole), so the candidates are the pages that
	// share a byte at the same position.
	var near bool
	err = withRetry(ctx, s.c.log, "check near duplicates", func() error {
		pipe := s.f.rdb.Pipeline()
		var cmds []*redis.StringSliceCmd
		for i := range 8 {
			cmds = append(cmds, pipe.SMembers(ctx, s.simKey(o.simHash, i)))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		near = false
		for _, cmd := range cmds {
			for _, m := range cmd.Val() {
				hexHash, u, _ := strings.Cut(m, " ")
				h, err := strconv.ParseUint(hexHash, 16, 64)
				if err == nil && u != doc.URL && bits.OnesCount64(h^o.simHash) <= nearDupBits {
					near = true
				}
			}
		}
		if near {
			return nil
		}
		pipe = s.f.rdb.Pipeline()
		if prev.HasSimHash && prev.SimHash != o.simHash {
			s.simCmds(ctx, pipe.SRem, prev.SimHash, doc.URL)
		}
		s.simCmds(ctx, pipe.SAdd, o.simHash, doc.URL)
		_, err := pipe.Exec(ctx)
		return err
	})
	if err != nil {
		return "", err
	}
	if near {
		rec.Hash, rec.SimHash, rec.HasSimHash = "", 0, false
		return "near_duplicate", nil
	}
	return "", nil
}

// forgetSimHash takes a page's last SimHash out of the near-duplicate
// buckets, when it had one.
func (s *sharedRun) forgetSimHash(ctx context.Context, prev *urlRecord, u string) error {
	if !prev.HasSimHash {
		return nil
	}
	return withRetry(ctx, s.c.log, "forget a page's last SimHash", func() error {
		pipe := s.f.rdb.Pipeline()
		s.simCmds(ctx, pipe.SRem, prev.SimHash, u)
		_, err := pipe.Exec(ctx)
		return err
	})
}

// simCmds queues op (SAdd or SRem) of page u's SimHash h in each of its 8
// buckets.
func (s *sharedRun) simCmds(ctx context.Context, op func(context.Context, string, ...any) *redis.IntCmd, h uint64, u string) {
	member := strconv.FormatUint(h, 16) + " " + u
	for i := range 8 {
		op(ctx, s.simKey(h, i), member)
	}
}

func (s *sharedRun) simKey(h uint64, i int) string {
	return s.f.key(fmt.Sprintf("sim:%d:%02x", i, byte(h>>(8*i))))
}
