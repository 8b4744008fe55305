package crawler

import (
	"context"
	"fmt"
	"time"

	"github.com/cari-search/cari"
)

// Outcomes are committed in groups: one bbolt transaction (one fsync) per
// commitBatchSize outcomes or per commitInterval, whichever comes first.
// A crawl killed between a fetch and its commit fetches that page again.
const (
	commitBatchSize = 64
	commitInterval  = 20 * time.Millisecond
)

// committer is the one goroutine that owns the seen set, the content
// fingerprints and the job's counters. It admits discovered URLs, decides
// duplicates, and writes each group of outcomes in one transaction before
// the frontier and the sink hear of them.
type committer struct {
	c        *Crawler
	job      *loadedJob
	dedup    *dedupIndex
	counters counters

	batch   *commitBatch
	n       int      // outcomes in batch
	push    []*entry // entries for the frontier once committed
	docs    []cari.Document
	newHost map[string]byte
}

func newCommitter(c *Crawler, job *loadedJob, dedup *dedupIndex) *committer {
	cm := &committer{c: c, job: job, dedup: dedup, counters: job.counters.clone()}
	cm.reset()
	return cm
}

func (cm *committer) reset() {
	cm.batch = newCommitBatch()
	cm.n = 0
	cm.push = nil
	cm.docs = nil
	cm.newHost = make(map[string]byte)
}

// admitSeeds queues the seeds of a new job.
func (cm *committer) admitSeeds() error {
	for _, s := range cm.c.scope.seeds {
		cm.admit(s, 0, 0, false)
	}
	return cm.flush(nil)
}

// run commits outcomes until in is closed, then writes the job's end when
// the crawl ran to its end (runCtx not cancelled).
func (cm *committer) run(runCtx context.Context, in <-chan outcome, docs chan<- cari.Document) error {
	defer close(docs)
	tick := time.NewTicker(commitInterval)
	defer tick.Stop()
	var err error
	for {
		select {
		case o, ok := <-in:
			if !ok {
				if err != nil {
					return err
				}
				return cm.finish(runCtx, docs)
			}
			if err != nil {
				continue // draining after a failed commit
			}
			cm.apply(o)
			if cm.n >= commitBatchSize {
				err = cm.flush(docs)
			}
		case <-tick.C:
			if err == nil && cm.n > 0 {
				err = cm.flush(docs)
			}
		}
		if err != nil {
			cm.c.abort(err)
		}
	}
}

// finish commits the last outcomes and, when the crawl was not
// interrupted, marks the job done with its stop reason.
func (cm *committer) finish(runCtx context.Context, docs chan<- cari.Document) error {
	if runCtx.Err() == nil {
		queued, spent := cm.c.front.stats()
		stop := StopFrontierEmpty
		if queued > 0 && spent {
			stop = StopMaxPages
			cm.counters.Skipped["max_pages"] += int64(queued)
		}
		meta := cm.job.meta
		meta.Done, meta.StopReason = true, string(stop)
		cm.batch.meta = &meta
		if err := cm.flush(docs); err != nil {
			return err
		}
		cm.c.live.finished(stop)
		cm.c.log.Info("crawl finished", "crawl_id", meta.ID, "stop_reason", stop)
		return nil
	}
	return cm.flush(docs)
}

// flush writes the batch, then hands its new entries to the frontier, its
// documents to the sink and its totals to Progress.
func (cm *committer) flush(docs chan<- cari.Document) error {
	b := cm.batch
	b.counters = cm.counters.clone()
	if b.meta == nil {
		meta := cm.job.meta
		b.meta = &meta
	}
	b.docs = cm.docs
	if err := cm.c.state.commit(cm.job.meta, b); err != nil {
		return fmt.Errorf("commit crawl state: %w", err)
	}
	cm.c.front.push(cm.push...)
	cm.c.front.finish(cm.n)
	cm.c.live.committed(b.counters, cm.newHost)
	if docs != nil {
		for _, d := range cm.docs {
			docs <- d
		}
	}
	cm.reset()
	return nil
}

// apply folds one outcome into the batch.
func (cm *committer) apply(o outcome) {
	cm.n++
	if o.t.kind == taskSitemap {
		cm.applySitemap(o)
		return
	}
	e := o.t.e
	if o.fetched {
		cm.counters.Fetched++
		cm.counters.Bytes += o.bytes
		cm.markHost(hostOf(e.URL), hostFetched)
	}
	if o.retry {
		cm.counters.Retries++
		cm.batch.queuePut = append(cm.batch.queuePut, e)
		cm.push = append(cm.push, e)
		return
	}
	cm.batch.queueDelete = append(cm.batch.queueDelete, e.seq)
	cm.batch.seen[e.URL] = seenMark{mark: markDone, depth: e.Depth}
	cm.job.seen[e.URL] = seenMark{mark: markDone, depth: e.Depth}
	skip, fail := o.skip, o.fail
	switch {
	case o.doc != nil && o.canonicalOf && cm.admitTarget(o.redirect, e, true):
		skip = "canonical"
	case o.doc != nil:
		skip = cm.dedupe(o)
	case o.redirect != "":
		cm.admitTarget(o.redirect, e, false)
	}
	if o.record != nil {
		cm.batch.records[e.URL] = o.record
	}
	if skip != "" {
		cm.counters.Skipped[skip]++
	}
	if fail != "" {
		cm.counters.Errors[fail]++
	}
	for _, l := range o.links {
		cm.admit(l, o.linkDepth, 0, true)
	}
}

func (cm *committer) applySitemap(o outcome) {
	host := o.t.host.key
	if !o.t.nested {
		cm.markHost(host, hostSitemapsRead)
	}
	if len(o.sitemaps) > 0 {
		cm.c.front.pushSitemaps(o.t.host, o.sitemaps, true)
	}
	for _, l := range o.links {
		cm.admit(l, o.linkDepth, 0, true)
	}
}

func (cm *committer) markHost(host string, flag byte) {
	old := cm.job.hosts[host]
	if old&flag != 0 {
		return
	}
	if flag == hostFetched {
		cm.counters.Hosts++
	}
	cm.job.hosts[host] = old | flag
	cm.batch.hosts[host] = old | flag
	cm.newHost[host] |= flag
}

// admission says why a URL may not be fetched, or "". The checks run in
// the order cari.v1.CrawlRequest documents: domain, URL patterns (for
// links only), depth, private address (IP literals; names are checked
// when dialled), and robots.txt later, per host.
func (cm *committer) admission(u string, depth int, patterns bool) string {
	return cm.c.scope.admission(u, depth, patterns)
}

// admission is committer.admission, for every crawl of the scope.
func (s *scope) admission(u string, depth int, patterns bool) string {
	switch {
	case len(u) > cari.MaxURLBytes:
		return "url_too_long"
	case !s.domainAllowed(u):
		return "domain"
	case patterns && !s.patternsAllow(u):
		return "pattern"
	case depth > s.maxDepth:
		return "depth"
	case s.policy.checkURLHost(u) != nil:
		return "private_address"
	}
	return ""
}

// admit queues a URL not seen before in this job, or records why not.
// A URL skipped for its depth is admitted when found nearer a seed.
func (cm *committer) admit(u string, depth, redirects int, patterns bool) bool {
	if m, ok := cm.job.seen[u]; ok {
		if m.mark != markDepthSkipped || depth > cm.c.scope.maxDepth {
			return false
		}
		cm.counters.Skipped["depth"]--
	}
	if reason := cm.admission(u, depth, patterns); reason != "" {
		m := seenMark{mark: markSkipped, depth: depth}
		if reason == "depth" {
			m.mark = markDepthSkipped
		}
		cm.job.seen[u] = m
		cm.batch.seen[u] = m
		cm.counters.Skipped[reason]++
		return false
	}
	cm.job.meta.NextSeq++
	e := &entry{URL: u, Depth: depth, Redirects: redirects, seq: cm.job.meta.NextSeq}
	m := seenMark{mark: markQueued, depth: depth}
	cm.job.seen[u] = m
	cm.batch.seen[u] = m
	cm.batch.queuePut = append(cm.batch.queuePut, e)
	cm.push = append(cm.push, e)
	return true
}

// admitTarget queues a redirect's or a rel="canonical" target at the depth
// of the page that pointed to it. A canonical target already seen, or out
// of scope, is not followed: the page is indexed itself (so that two pages
// naming each other canonical cannot both go unindexed).
func (cm *committer) admitTarget(target string, from *entry, canonical bool) bool {
	if canonical {
		if _, seen := cm.job.seen[target]; seen || cm.admission(target, from.Depth, false) != "" {
			return false
		}
	}
	return cm.admit(target, from.Depth, from.Redirects+1, false)
}

// dedupe decides whether a fetched document goes to the index: not when
// its text is what this URL already has ("unchanged"), what another URL
// has ("duplicate"), or within a few SimHash bits of another URL's
// ("near_duplicate").
func (cm *committer) dedupe(o outcome) string {
	doc, rec, prev := o.doc, o.record, o.prev
	u, h := doc.URL, doc.ContentHash
	if prev != nil && prev.Hash == h {
		rec.Hash, rec.SimHash, rec.HasSimHash = prev.Hash, prev.SimHash, prev.HasSimHash
		return "unchanged"
	}
	if owner, ok := cm.dedup.hashes[h]; ok && owner != u {
		return "duplicate"
	}
	if o.hasSimHash {
		if near := cm.dedup.sims.near(o.simHash, u); near != "" {
			return "near_duplicate"
		}
	}
	b := cm.batch
	if prev != nil && prev.Hash != "" && cm.dedup.hashes[prev.Hash] == u {
		delete(cm.dedup.hashes, prev.Hash)
		delete(b.hashPut, prev.Hash)
		b.hashDelete = append(b.hashDelete, prev.Hash)
	}
	if prev != nil && prev.HasSimHash {
		cm.dedup.sims.remove(prev.SimHash, u)
		b.simDelete = append(b.simDelete, simEntry{prev.SimHash, u})
	}
	cm.dedup.hashes[h] = u
	b.hashPut[h] = u
	if o.hasSimHash {
		cm.dedup.sims.add(o.simHash, u)
		b.simPut = append(b.simPut, simEntry{o.simHash, u})
	}
	rec.Hash, rec.SimHash, rec.HasSimHash = h, o.simHash, o.hasSimHash
	cm.docs = append(cm.docs, *doc)
	return ""
}
