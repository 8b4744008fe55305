package crawler

import (
	"context"
	"encoding/json"
)

// hostRobots is the host's robots.txt as some worker of the job read it,
// parsed once per worker and given to colly's check too.
func (s *sharedRun) hostRobots(ctx context.Context, host string) (*robotsRules, error) {
	s.mu.Lock()
	r := s.robots[host]
	s.mu.Unlock()
	if r != nil {
		return r, nil
	}
	var raw string
	err := withRetry(ctx, s.c.log, "read robots.txt from the job", func() error {
		var err error
		raw, err = s.f.rdb.HGet(ctx, s.f.key("robots"), host).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	var sr sharedRobots
	if err := json.Unmarshal([]byte(raw), &sr); err != nil {
		return nil, err
	}
	if sr.Blocked != "" {
		r = &robotsRules{blocked: sr.Blocked}
	} else {
		r = parseRobots(sr.Status, sr.Body)
		s.c.robots.put(host+"/robots.txt", sr.Status, sr.Body)
	}
	s.mu.Lock()
	s.robots[host] = r
	s.mu.Unlock()
	return r, nil
}

// sharedRobots is a host's robots.txt in the job, as one worker read it.
type sharedRobots struct {
	Blocked string `json:"blocked,omitempty"`
	Status  int    `json:"status,omitempty"`
	Body    []byte `json:"body,omitempty"`
}

func (s *sharedRun) robotsDone(t task, r *robotsRules) {
	if s.ctx.Err() != nil {
		return
	}
	host := t.host.key
	// An answer is kept as it came, for every worker to parse alike; no
	// answer (unreachable, refused address) as the reason.
	sr := sharedRobots{Status: r.status, Body: r.body}
	if r.status == 0 {
		sr = sharedRobots{Blocked: r.blocked}
	}
	raw, _ := json.Marshal(sr)
	delay := min(r.crawlDelay, s.c.opts.MaxCrawlDelay)
	var smaps []any
	if r.blocked == "" && s.sitemaps {
		for _, u := range sitemapURLs(host, r) {
			smaps = append(smaps, sitemapEntry(u, false))
		}
	}
	ctx := context.Background()
	err := withRetry(ctx, s.c.log, "record robots.txt", func() error {
		args := append([]any{s.f.prefix, s.worker, "R " + host, nowMS(), string(raw), delay.Milliseconds()}, smaps...)
		return robotsScript.Run(ctx, s.f.rdb, nil, args...).Err()
	})
	if err != nil {
		s.c.log.Warn("record robots.txt", "host", host, "error", err)
		return
	}
	s.unhold("R " + host)
}
