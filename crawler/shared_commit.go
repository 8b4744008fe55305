package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cari-search/cari"
)

// A shared worker commits outcomes in groups, like the local committer:
// every sharedCommitInterval (or sharedCommitSize outcomes) one Redis
// round trip admits the group's links and ends the leases of its pages
// that give no document. A page with a document keeps its lease until the
// sink has flushed the document (every Options.FlushEvery documents, or
// sharedFlushInterval), so a worker that dies before that loses nothing:
// its leases expire and the pages are fetched again.
const (
	sharedCommitSize     = 64
	sharedCommitInterval = 20 * time.Millisecond
	sharedFlushInterval  = 500 * time.Millisecond
)

// heldOutcome is a page whose document waits for the sink's flush.
type heldOutcome struct {
	o    outcome
	fail string // "index" when the sink refused the document
}

// commitLoop collects outcomes into groups and commits each; the pages
// with documents go on to the flush loop, which runs beside it so that
// fetching and committing go on while the sink indexes.
func (s *sharedRun) commitLoop(runCtx context.Context, in <-chan outcome) error {
	tick := time.NewTicker(sharedCommitInterval)
	defer tick.Stop()
	// Outcomes are committed even as the worker stops: their pages were
	// fetched, and committing them saves fetching them again.
	ctx := context.WithoutCancel(runCtx)
	held := make(chan heldOutcome, s.c.opts.FlushEvery)
	flushDone := make(chan error, 1)
	go func() { flushDone <- s.flushLoop(ctx, runCtx, held) }()
	var group []outcome
	var err error
	step := func() {
		if err == nil && len(group) > 0 {
			var hs []heldOutcome
			if hs, err = s.commit(ctx, group); err != nil {
				s.c.abort(err)
			}
			for _, h := range hs {
				held <- h
			}
		}
		group = group[:0]
	}
	for {
		select {
		case o, ok := <-in:
			if !ok {
				step()
				close(held)
				return errors.Join(err, <-flushDone)
			}
			group = append(group, o)
			if len(group) >= sharedCommitSize {
				step()
			}
		case <-tick.C:
			step()
		}
	}
}

// flushLoop flushes the sink every Options.FlushEvery documents, every
// sharedFlushInterval, and whenever no document has come for a
// sharedCommitInterval (so that the end of a job does not wait), then
// ends the leases of the pages it made durable.
func (s *sharedRun) flushLoop(ctx, runCtx context.Context, in <-chan heldOutcome) error {
	var batch []heldOutcome
	var oldest time.Time
	var err error
	flush := func() {
		if err == nil && len(batch) > 0 {
			if err = s.flushHeld(ctx, runCtx, batch); err != nil {
				s.c.abort(err)
			}
		}
		batch = batch[:0]
	}
	idle := time.NewTimer(sharedCommitInterval)
	defer idle.Stop()
	for {
		select {
		case h, ok := <-in:
			if !ok {
				flush()
				return err
			}
			if len(batch) == 0 {
				oldest = time.Now()
			}
			batch = append(batch, h)
			if len(batch) >= s.c.opts.FlushEvery || time.Since(oldest) >= sharedFlushInterval {
				flush()
			}
			idle.Reset(sharedCommitInterval)
		case <-idle.C:
			flush()
			idle.Reset(sharedCommitInterval)
		}
	}
}

// commit follows the group's canonical links, decides its duplicates and
// hands its documents to the sink, then admits its links and ends the
// leases of the pages without a document in one pipeline. It returns the
// pages whose documents wait for the sink's flush.
func (s *sharedRun) commit(ctx context.Context, group []outcome) ([]heldOutcome, error) {
	var held []heldOutcome
	var now []outcome
	for _, o := range group {
		if o.doc == nil || o.retry {
			now = append(now, o)
			continue
		}
		if o.canonicalOf {
			followed, err := s.followCanonical(ctx, o)
			if err != nil {
				return nil, err
			}
			if followed {
				o.skip = "canonical"
				now = append(now, o)
				continue
			}
		}
		skip, err := s.dedupe(ctx, o)
		if err != nil {
			return nil, err
		}
		if skip != "" {
			o.skip = skip
			now = append(now, o)
			continue
		}
		h := heldOutcome{o: o}
		if err := s.c.sink.Add(ctx, *o.doc); err != nil {
			var fe *cari.FieldError
			if !errors.As(err, &fe) {
				return nil, fmt.Errorf("index %s: %w", o.doc.URL, err)
			}
			s.c.log.Warn("document refused by the index", "url", o.doc.URL, "error", err)
			h.fail = "index"
		}
		held = append(held, h)
	}
	err := withRetry(ctx, s.c.log, "commit fetched pages", func() error {
		pipe := s.f.rdb.Pipeline()
		t := nowMS()
		var admit []any
		for _, o := range group {
			admit = s.linkArgs(admit, o)
		}
		if len(admit) > 0 {
			admitScript.Eval(ctx, pipe, nil, append([]any{s.f.prefix, t}, admit...)...)
		}
		for _, o := range group {
			s.nestedSitemapsCmd(ctx, pipe, o, t)
		}
		for _, o := range now {
			s.completeCmd(ctx, pipe, o, t, o.skip, o.fail, false)
		}
		_, err := pipe.Exec(ctx)
		return err
	})
	if err == nil {
		for _, o := range now {
			s.unhold(o.t.lease)
		}
	}
	return held, err
}

// flushHeld flushes the sink, then ends the leases of the pages whose
// documents it made durable.
func (s *sharedRun) flushHeld(ctx, runCtx context.Context, held []heldOutcome) error {
	if err := s.flushSink(ctx, runCtx); err != nil {
		return err
	}
	err := withRetry(ctx, s.c.log, "commit indexed pages", func() error {
		pipe := s.f.rdb.Pipeline()
		t := nowMS()
		for _, h := range held {
			s.completeCmd(ctx, pipe, h.o, t, h.o.skip, h.fail, h.fail == "")
		}
		_, err := pipe.Exec(ctx)
		return err
	})
	if err == nil {
		for _, h := range held {
			s.unhold(h.o.t.lease)
		}
	}
	return err
}

// flushSink flushes the sink, trying again while it fails: the pages'
// leases stay held (renewed by the heartbeat) until their documents are
// durable, so a sink that is down pauses the worker rather than losing
// pages. It gives up when the worker is stopped.
func (s *sharedRun) flushSink(ctx, runCtx context.Context) error {
	backoff := 250 * time.Millisecond
	for {
		err := s.c.sink.Flush(ctx)
		if err == nil {
			return nil
		}
		s.c.log.Warn("index flush failed; trying again", "error", err, "in", backoff)
		select {
		case <-runCtx.Done():
			return fmt.Errorf("flush the index: %w", err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxRedisBackoff)
	}
}

// linkArgs appends admitScript's arguments for an outcome's links (a
// page's, or the pages a sitemap lists) and its redirect target. A
// rel="canonical" target was followed, or not, by followCanonical.
func (s *sharedRun) linkArgs(args []any, o outcome) []any {
	if (o.t.kind != taskPage && o.t.kind != taskSitemap) || o.retry {
		return args
	}
	if e := o.t.e; e != nil && o.redirect != "" && !o.canonicalOf {
		args = s.admitArgs(args, o.redirect, e.Depth, e.Redirects+1, false)
	}
	for _, l := range o.links {
		args = s.admitArgs(args, l, o.linkDepth, 0, true)
	}
	return args
}

// completeCmd queues completeScript for an outcome's lease: a page's
// record and its next due time go with it, so that a later pass asks the
// page conditionally.
func (s *sharedRun) completeCmd(ctx context.Context, pipe redis.Pipeliner, o outcome, now int64, skip, fail string, indexed bool) {
	e := o.t.e
	var retryAt, retry, rec, due string
	switch {
	case o.t.kind == taskSitemap:
	case o.retry:
		retryAt = strconv.FormatInt(e.NotBefore.UnixMilli(), 10)
		raw, _ := json.Marshal(e)
		retry = string(raw)
	default:
		if o.record != nil {
			raw, _ := json.Marshal(o.record)
			rec = string(raw)
		}
		raw, _ := json.Marshal(entry{URL: e.URL, Depth: e.Depth, Redirects: e.Redirects})
		due = o.t.host.key + "\t" + string(raw)
	}
	completeScript.Eval(ctx, pipe, nil, s.f.prefix, s.worker, o.t.lease, now,
		flag(o.fetched), o.bytes, skip, fail, flag(indexed), retryAt, retry, rec, due, now+s.recrawlAfter.Milliseconds())
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
