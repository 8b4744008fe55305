package embeddings

import (
	"context"
	"errors"
	"sync"
)

// Shared shares loaded models between the Providers a process opens: a
// server's collections whose settings name the same model (same Config but
// for the cache) hold one copy of its weights, not one each. Each Provider
// keeps its own vector cache. Safe for concurrent use; a nil *Shared
// shares nothing.
type Shared struct {
	mu     sync.Mutex
	models map[Config]*sharedModel
	// load is New; a test counts the loads.
	load func(ctx context.Context, cfg Config) (*Provider, error)
}

// sharedModel is one loaded model and how many Providers use it.
type sharedModel struct {
	p     *Provider
	users int
}

// NewShared returns a Shared holding no model yet.
func NewShared() *Shared {
	return &Shared{models: map[Config]*sharedModel{}, load: New}
}

// NewIfAny is the package's NewIfAny on models shared through s.
func (s *Shared) NewIfAny(ctx context.Context, cfg Config, named bool) (*Provider, error) {
	if s == nil {
		return NewIfAny(ctx, cfg, named)
	}
	return newIfAny(ctx, cfg, named, s.New)
}

// New is the package's New, loading the model only when no Provider open
// through s holds the same one; the model is released with the last
// Provider's Close.
func (s *Shared) New(ctx context.Context, cfg Config) (*Provider, error) {
	if s == nil {
		return New(ctx, cfg)
	}
	key := cfg.withDefaults()
	key.CacheDir, key.CacheMaxBytes, key.Logger = "", 0, nil
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.models[key]
	if m == nil {
		// Loading under the lock: a second collection naming the model
		// waits for it rather than loading a copy of its own.
		lc := key
		lc.Logger = cfg.Logger
		p, err := s.load(ctx, lc)
		if err != nil {
			return nil, err
		}
		m = &sharedModel{p: p}
		s.models[key] = m
	}
	view := *m.p
	var once sync.Once
	view.cache, view.closeModel = nil, func() (err error) {
		once.Do(func() { err = s.release(key) })
		return err
	}
	if cfg.CacheDir != "" {
		var err error
		if view.cache, err = openCache(cfg.CacheDir, view.info, cfg.withDefaults().CacheMaxBytes); err != nil {
			if m.users == 0 {
				delete(s.models, key)
				return nil, errors.Join(err, m.p.Close())
			}
			return nil, err
		}
	}
	m.users++
	return &view, nil
}

// release drops one user of the model key, closing it with the last.
func (s *Shared) release(key Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.models[key]
	if m == nil {
		return nil
	}
	if m.users--; m.users > 0 {
		return nil
	}
	delete(s.models, key)
	return m.p.Close()
}
