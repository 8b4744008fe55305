package local

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// impactsQuiet is how long writes must pause before a sweep computes the
// impacts of new segments: during a bulk load bleve merges its segments
// into bigger ones again and again, and only the ones that stay are worth
// the work.
const impactsQuiet = time.Second

// impactIndex keeps the impacts of a generation's live segments in memory,
// by segment file name, and a goroutine that loads or computes those of
// new segments in the background: searches never wait for impacts, they
// bound a segment without them by BM25's ceiling, which gives the same
// results, only slower.
type impactIndex struct {
	genDir string
	reader func() (index.IndexReader, error)
	log    *slog.Logger

	mu   sync.RWMutex
	segs map[string]*segmentImpacts

	sweeping sync.Mutex // one sweep at a time

	kick  chan struct{} // a sweep is wanted
	wrote chan struct{} // a write committed since the last sweep
	stop  context.CancelFunc
	done  chan struct{}
}

// startImpacts starts the impacts of the generation in genDir, whose
// snapshots reader returns, with a first sweep.
func startImpacts(genDir string, reader func() (index.IndexReader, error), log *slog.Logger) *impactIndex {
	ctx, stop := context.WithCancel(context.Background())
	x := &impactIndex{genDir: genDir, reader: reader, log: log, segs: map[string]*segmentImpacts{},
		kick: make(chan struct{}, 1), wrote: make(chan struct{}, 1), stop: stop, done: make(chan struct{})}
	x.want()
	go x.run(ctx)
	return x
}

// close stops the background work and waits for it.
func (x *impactIndex) close() {
	x.stop()
	<-x.done
}

// want asks for a sweep without waiting for it.
func (x *impactIndex) want() {
	select {
	case x.kick <- struct{}{}:
	default:
	}
}

// committed says a write committed: new segments to sweep once writes
// pause.
func (x *impactIndex) committed() {
	select {
	case x.wrote <- struct{}{}:
	default:
	}
	x.want()
}

// get returns the impacts of the segment file named name; nil when they
// are not known (yet).
func (x *impactIndex) get(name string) *segmentImpacts {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.segs[name]
}

func (x *impactIndex) run(ctx context.Context) {
	defer close(x.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-x.kick:
		}
		if !x.awaitQuiet(ctx) {
			return
		}
		if err := x.sweep(ctx); err != nil && !errors.Is(err, context.Canceled) {
			x.log.Warn("computing keyword segment impacts failed; searches bound those segments loosely", "dir", x.genDir, "err", err)
		}
	}
}

// awaitQuiet waits until no write has committed for impactsQuiet; false
// when stopped.
func (x *impactIndex) awaitQuiet(ctx context.Context) bool {
	for {
		select {
		case <-x.wrote:
		default:
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(impactsQuiet):
		}
	}
}

// sweep gives every live segment of at least minImpactDocs documents its
// impacts, from its sidecar or, when that is missing or stale, from its
// postings; then forgets the segments bleve has dropped, and removes their
// sidecars once their files are gone.
func (x *impactIndex) sweep(ctx context.Context) error {
	x.sweeping.Lock()
	defer x.sweeping.Unlock()
	r, err := x.reader()
	if err != nil {
		return err
	}
	defer r.Close()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil
	}
	live := map[string]bool{}
	for _, ss := range snap.Segments() {
		ps, ok := ss.Segment().(segment.PersistedSegment)
		if !ok {
			continue
		}
		name := filepath.Base(ps.Path())
		live[name] = true
		if ss.Segment().Count() < minImpactDocs || x.get(name) != nil {
			continue
		}
		si, err := loadImpacts(x.genDir, ps.Path())
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				x.log.Info("recomputing keyword segment impacts", "segment", name, "reason", err)
			}
			start := time.Now()
			if si, err = buildImpacts(ctx, ss.Segment(), ps.Path()); err != nil {
				return err
			}
			if err := writeImpacts(x.genDir, ps.Path(), si); err != nil {
				x.log.Warn("could not write keyword segment impacts; they are computed again at the next start", "segment", name, "err", err)
			}
			x.log.Debug("computed keyword segment impacts", "segment", name, "docs", ss.Segment().Count(), "took", time.Since(start).Round(time.Millisecond))
		}
		x.mu.Lock()
		x.segs[name] = si
		x.mu.Unlock()
	}
	x.mu.Lock()
	for name := range x.segs {
		if !live[name] {
			delete(x.segs, name)
		}
	}
	x.mu.Unlock()
	return x.removeOrphans()
}

// removeOrphans removes the sidecars whose segment files are gone.
func (x *impactIndex) removeOrphans() error {
	entries, err := os.ReadDir(filepath.Join(x.genDir, impactsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	storeDir := filepath.Join(x.genDir, keywordDir, "store")
	for _, e := range entries {
		seg, ok := strings.CutSuffix(e.Name(), ".imp")
		if !ok {
			continue
		}
		if _, err := os.Stat(filepath.Join(storeDir, seg+".zap")); errors.Is(err, fs.ErrNotExist) {
			os.Remove(filepath.Join(x.genDir, impactsDir, e.Name()))
		}
	}
	return nil
}
