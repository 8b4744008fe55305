package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cari-search/cari/store/catalog"
)

// DefaultDrainTimeout is how long DeleteCollection and UpdateCollection
// wait for the requests using a collection to end: a search takes well
// under it; a crawl or reindex stream outlasts it, and the caller is told
// to retry once it ends rather than having its store closed under it.
const DefaultDrainTimeout = 10 * time.Second

// handle is one open collection: its services and the requests using
// them. A collection is closed only when no request holds its handle, so
// that no request finds its store closed under it.
type handle struct {
	svc services
	// close closes the collection's store and models; nil when its owner
	// closes them (the default collection of a server without a catalog).
	close func() error
	// users counts the requests holding the handle, under router.mu.
	users int
	// idle, set while a change waits for the handle, is closed when users
	// reaches 0.
	idle chan struct{}
}

// acquire returns the services of col, opening it on first use, held for
// the request until it calls release. A request for a collection being
// deleted or reopened waits until that is done, and then finds it gone or
// reopened with its new settings.
func (r *router) acquire(ctx context.Context, col catalog.Collection) (services, func(), error) {
	r.mu.Lock()
	for {
		wait, changing := r.changing[col.Name]
		if !changing {
			break
		}
		r.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return services{}, nil, status.FromContextError(ctx.Err()).Err()
		}
		r.mu.Lock()
	}
	defer r.mu.Unlock()
	h, ok := r.open[col.Name]
	if !ok {
		var err error
		if h, err = r.openLocked(ctx, col.Name); err != nil {
			return services{}, nil, err
		}
	}
	h.users++
	var once sync.Once
	return h.svc, func() { once.Do(func() { r.releaseHandle(h) }) }, nil
}

// openLocked opens the collection name and records its handle; r.mu is
// held. It reads the collection's record again, so that a request that
// resolved it before it was deleted cannot create it anew (collections'
// Open creates a missing one) and one after an update gets the new
// settings.
func (r *router) openLocked(ctx context.Context, name string) (*handle, error) {
	if r.set == nil {
		return nil, status.Errorf(codes.NotFound, "collection %q: %v", name, catalog.ErrNotFound)
	}
	col, err := r.set.Catalog.Resolve(name)
	if err != nil {
		return nil, collectionStatus(err)
	}
	c, err := r.set.Open(ctx, col)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "collection %q cannot be opened: %v", col.Name, err)
	}
	opts := r.base
	opts.Searcher, opts.Store, opts.StoreName, opts.Indexing = c.Searcher, c.Store, c.StoreName, c.Indexing
	opts.Reindex.Target, opts.Reindex.Stored, opts.Reindex.GC, opts.Reindex.Model = c.Reindex.Target, c.Reindex.Stored, c.Reindex.GC, c.Reindex.Model
	if opts.Crawl.StateDir != "" {
		opts.Crawl.StateDir = c.CrawlStateDir
	}
	if col.Name == catalog.Default {
		r.base.Metrics.watchStore(c.Store)
	}
	h := &handle{svc: newCollectionServices(opts), close: c.Close}
	r.open[col.Name] = h
	return h, nil
}

func (r *router) releaseHandle(h *handle) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h.users--
	if h.users == 0 && h.idle != nil {
		close(h.idle)
		h.idle = nil
	}
}

// change runs fn (which deletes the collection name or saves its new
// settings) while no request uses name: new requests wait until change
// returns, and those in flight are given the DrainTimeout to end. When fn
// succeeds the collection's handle is closed, and reopened when reopen is
// set (UpdateCollection: later requests see the new settings); otherwise
// the next request finds the collection gone. When fn fails, or requests
// outlast the wait, the handle serves on and nothing changed.
func (r *router) change(ctx context.Context, name string, reopen bool, fn func() error) error {
	r.mu.Lock()
	for {
		wait, busy := r.changing[name]
		if !busy {
			break
		}
		r.mu.Unlock()
		<-wait // one change of a collection at a time
		r.mu.Lock()
	}
	done := make(chan struct{})
	r.changing[name] = done
	h := r.open[name]
	var idle chan struct{}
	if h != nil {
		idle = make(chan struct{})
		if h.users == 0 {
			close(idle)
		} else {
			h.idle = idle
		}
	}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.changing, name)
		close(done)
		r.mu.Unlock()
	}()
	if err := r.drain(ctx, name, h, idle); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if h != nil {
		if h.close == nil {
			// Its owner closes it: it serves on, with the old settings.
			return nil
		}
		delete(r.open, name)
		if err := h.close(); err != nil {
			return status.Errorf(codes.Internal, "collection %q: close: %v", name, err)
		}
	}
	if reopen {
		if _, err := r.openLocked(ctx, name); err != nil {
			return status.Errorf(status.Code(err), "collection %q: settings saved, but %v", name, status.Convert(err).Message())
		}
	}
	return nil
}

// drain waits until idle is closed (no request holds h) or the
// DrainTimeout passes.
func (r *router) drain(ctx context.Context, name string, h *handle, idle chan struct{}) error {
	if h == nil {
		return nil
	}
	wait := DefaultDrainTimeout
	if r.set != nil && r.set.DrainTimeout > 0 {
		wait = r.set.DrainTimeout
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var err error
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = context.DeadlineExceeded
	}
	r.mu.Lock()
	users := h.users
	h.idle = nil
	r.mu.Unlock()
	if users == 0 {
		return nil // the last one ended as the wait did
	}
	if errors.Is(err, context.Canceled) {
		return status.FromContextError(err).Err()
	}
	return status.Errorf(codes.Unavailable, "collection %q: %d requests still use it after %s (a crawl, reindex or upsert stream holds it until it ends); nothing changed: retry when they end", name, users, wait)
}

// Close closes every collection the router opened. The server has stopped
// taking requests by then.
func (r *router) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	for name, h := range r.open {
		if h.close != nil {
			err = errors.Join(err, h.close())
		}
		delete(r.open, name)
	}
	return err
}
