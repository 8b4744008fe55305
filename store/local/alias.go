package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/cari-search/cari/store"
)

// Generations lists the data directory's generations, oldest first. The
// serving and building ones are counted now; the others report the size
// they had when they stopped serving.
func (s *Store) Generations(ctx context.Context) ([]store.Generation, error) {
	s.writeMu.Lock() // the building generation is not swapped or aborted meanwhile
	defer s.writeMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	open := map[string]*generation{s.serving.m.Name: s.serving}
	serving := s.serving.m.Name
	if s.building != nil {
		open[s.building.m.Name] = s.building
	}
	s.mu.Unlock()
	ms, err := listGenerations(s.dir)
	if err != nil {
		return nil, err
	}
	out := make([]store.Generation, 0, len(ms))
	for _, m := range ms {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		info := store.Generation{Name: m.Name, State: store.GenerationRetired, Created: m.Created, Analyzer: m.Analyzer,
			Vectors: m.Vectors, Source: m.Source, Documents: m.Documents, Chunks: m.Chunks}
		switch {
		case m.Name == serving:
			info.State = store.GenerationServing
		case !m.Complete():
			info.State = store.GenerationBuilding
		}
		if g := open[m.Name]; g != nil {
			r, err := g.reader()
			if err != nil {
				return nil, err
			}
			st, err := g.stats(r)
			r.Close()
			if err != nil {
				return nil, err
			}
			info.Documents, info.Chunks, info.SizeBytes = st.Documents, st.Chunks, st.DiskBytes
		} else if info.SizeBytes, err = dirSize(generationPath(s.dir, m.Name)); err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// ErrNoRollback is returned by Rollback when there is no generation to go
// back to.
var ErrNoRollback = errors.New("no earlier generation to roll back to")

// Rollback points the serving alias at another complete generation: name,
// or, when name is empty, the newest one created before the serving one.
// The target must fit this process's embedding model, as at Open. It
// returns the generation that serves now. A reindex in progress goes on.
func (s *Store) Rollback(name string) (Manifest, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Manifest{}, ErrClosed
	}
	cur := s.serving.m
	s.mu.Unlock()
	target, err := s.rollbackTarget(cur, name)
	if err != nil {
		return Manifest{}, err
	}
	// A generation swapped out a moment ago may still be open for a
	// search; bleve cannot open it twice.
	s.retired.Wait()
	g, err := openGeneration(s.dir, target, s.opts, openServe)
	if err != nil {
		return Manifest{}, fmt.Errorf("roll back to %s: %w", target, err)
	}
	if g.readOnly != "" {
		g.close()
		return Manifest{}, fmt.Errorf("roll back to %s: %s", target, g.readOnly)
	}
	if err := writeCurrent(s.dir, target); err != nil {
		g.close()
		return Manifest{}, fmt.Errorf("point the serving alias at %s: %w", target, err)
	}
	s.serve(g, false)
	s.opts.Logger.Info("rolled the serving alias back", "from", cur.Name, "to", target)
	return g.m, nil
}

func (s *Store) rollbackTarget(cur Manifest, name string) (string, error) {
	ms, err := listGenerations(s.dir)
	if err != nil {
		return "", err
	}
	if name != "" {
		i := slices.IndexFunc(ms, func(m Manifest) bool { return m.Name == name })
		switch {
		case name == cur.Name:
			return "", fmt.Errorf("generation %s already serves", name)
		case i < 0:
			return "", fmt.Errorf("no generation %q in %s", name, s.dir)
		case !ms[i].Complete():
			return "", fmt.Errorf("generation %s is incomplete (a reindex is building it) and cannot serve", name)
		}
		return name, nil
	}
	var best string
	for _, m := range ms {
		if m.Complete() && m.Name != cur.Name && m.Created.Before(cur.Created) {
			best = m.Name
		}
	}
	if best == "" {
		return "", fmt.Errorf("%w: generation %s is the oldest complete one in %s (name a newer one to serve it instead)", ErrNoRollback, cur.Name, s.dir)
	}
	return best, nil
}

// GC removes retired generations, keeping the newest keep of them for
// Rollback, and unfinished generations that no reindex can resume (all but
// the one attached to this store). It returns the names removed.
func (s *Store) GC(keep int) ([]string, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.retired.Wait()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	serving, building := s.serving.m.Name, ""
	if s.building != nil {
		building = s.building.m.Name
	}
	s.mu.Unlock()
	ms, err := listGenerations(s.dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	kept := 0
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i]
		if m.Name == serving || m.Name == building {
			continue
		}
		if m.Complete() && kept < keep {
			kept++
			continue
		}
		if err := os.RemoveAll(generationPath(s.dir, m.Name)); err != nil {
			return removed, fmt.Errorf("remove generation %s: %w", m.Name, err)
		}
		s.opts.Logger.Info("removed index generation", "generation", m.Name, "created", m.Created)
		removed = append(removed, m.Name)
	}
	return removed, nil
}
