package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cari-search/cari/store"
)

// Build is a generation being built by a reindex, beside the serving one.
// Writes to the store reach it too, so that nothing acknowledged while it
// is built is missing after the swap. Its batches record how far into the
// source they reach (Position), so a job killed at any point resumes after
// the last committed batch. One Build at a time; its methods are not safe
// for concurrent use.
type Build struct {
	s       *Store
	g       *generation
	resumed bool
}

// BeginBuild starts building a new generation from source, a description
// of the source (kind and path) that identifies the job. If an unfinished
// generation was being built from the same source with the same embedding
// model, the build resumes it (Resumed, Position); an unfinished one from
// another source is discarded.
func (s *Store) BeginBuild(source string) (*Build, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	closed, busy, old := s.closed, s.buildJob, s.building
	s.mu.Unlock()
	switch {
	case closed:
		return nil, ErrClosed
	case busy:
		return nil, store.ErrBuildRunning
	}
	if old != nil {
		if old.m.Source == source && old.m.Vectors == s.opts.Vectors {
			s.setBuilding(old, true)
			s.opts.Logger.Info("resuming the unfinished reindex", "generation", old.m.Name, "source", source)
			return &Build{s: s, g: old, resumed: true}, nil
		}
		s.opts.Logger.Warn("discarding an unfinished reindex generation built from another source or model",
			"generation", old.m.Name, "source", old.m.Source, "vectors", old.m.Vectors.String())
		s.setBuilding(nil, false)
		if err := removeGeneration(old); err != nil {
			return nil, err
		}
	}
	name := newGenerationName(s.dir, time.Now())
	m := Manifest{Name: name, Vectors: s.opts.Vectors, State: StateBuilding, Source: source}
	if err := createGeneration(s.dir, m); err != nil {
		return nil, err
	}
	g, err := openGeneration(s.dir, name, s.opts, openBuild)
	if err != nil {
		return nil, err
	}
	s.setBuilding(g, true)
	return &Build{s: s, g: g}, nil
}

func (s *Store) setBuilding(g *generation, job bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.building, s.buildJob = g, job
}

// removeGeneration closes g and deletes its directory.
func removeGeneration(g *generation) error {
	err := g.close()
	if rerr := os.RemoveAll(g.dir); rerr != nil {
		return errors.Join(err, fmt.Errorf("remove generation %s: %w", g.m.Name, rerr))
	}
	return err
}

// Name is the new generation's name.
func (b *Build) Name() string { return b.g.m.Name }

// Resumed reports whether BeginBuild took up an unfinished build.
func (b *Build) Resumed() bool { return b.resumed }

// Position returns how far into the source the committed batches reach, as
// given to Commit: 0 for a new build.
func (b *Build) Position() (int64, error) {
	b.s.writeMu.Lock()
	defer b.s.writeMu.Unlock()
	if err := b.s.checkOpen(); err != nil {
		return 0, err
	}
	pos, err := internalOffset(b.g.idx, positionKey, "reindex position")
	if err != nil {
		return 0, fmt.Errorf("generation %s: %w", b.g.m.Name, err)
	}
	return pos, nil
}

// Commit writes entries to the new generation in one atomic batch with the
// source position they reach, so that a resumed job starts after them.
// entries may be empty, to record progress over source records that all
// failed.
func (b *Build) Commit(ctx context.Context, entries []store.Entry, position int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries = store.LastByID(entries)
	an := analyse(b.s.analyzer, entries)
	b.s.writeMu.Lock()
	defer b.s.writeMu.Unlock()
	if err := b.s.checkOpen(); err != nil {
		return err
	}
	return b.g.upsert(entries, an, position)
}

// Stats describes the new generation so far.
func (b *Build) Stats() (store.Stats, error) {
	b.s.writeMu.Lock()
	defer b.s.writeMu.Unlock()
	if err := b.s.checkOpen(); err != nil {
		return store.Stats{}, err
	}
	r, err := b.g.reader()
	if err != nil {
		return store.Stats{}, err
	}
	defer r.Close()
	return b.g.stats(r)
}

// Finalize builds the new generation's vector index from its vector log
// and saves its snapshot, so that Swap has nothing slow left to do. Writes
// wait meanwhile; searches go on.
func (b *Build) Finalize(ctx context.Context) error {
	s := b.s
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := errors.Join(ctx.Err(), s.checkOpen()); err != nil {
		return err
	}
	g := b.g
	if g.vlog == nil || s.opts.Vectors.IsZero() || g.vecs != nil {
		return nil
	}
	if err := g.vlog.close(); err != nil {
		return err
	}
	g.vlog = nil
	committed, err := committedLogOffset(g.idx)
	if err != nil {
		return err
	}
	vlog, vecs, err := g.openANN(committed)
	if err != nil {
		return fmt.Errorf("build the vector index of generation %s: %w", g.m.Name, err)
	}
	g.vlog, g.vecs = vlog, vecs
	g.snapshotVectors(true)
	return nil
}

// Swap makes the new generation serve: it marks its manifest complete and
// then points CURRENT at it (each step atomic and durable, so a crash
// leaves either the old generation serving or the complete new one).
// Searches go on throughout: on the old generation until the swap and on
// the new one after; a search pinned before the swap finishes on the old
// one, which is closed when the last such search ends. The old generation
// stays on disk for Rollback until GC removes it. After Swap the Build is
// done.
func (b *Build) Swap(ctx context.Context) error {
	if err := b.Finalize(ctx); err != nil {
		return err
	}
	s := b.s
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	g := b.g
	m := g.m
	m.State = ""
	if err := writeManifest(g.dir, m); err != nil {
		return fmt.Errorf("mark generation %s complete: %w", m.Name, err)
	}
	g.m = m
	if err := writeCurrent(s.dir, m.Name); err != nil {
		return fmt.Errorf("point the serving alias at generation %s: %w", m.Name, err)
	}
	s.serve(g, true)
	s.opts.Logger.Info("swapped in the new index generation", "generation", m.Name, "source", m.Source)
	return nil
}

// serve makes g the serving generation and retires the one it replaces,
// which is closed once no search uses it. done says g was the one being
// built. The caller holds writeMu and has written CURRENT.
func (s *Store) serve(g *generation, done bool) {
	s.recordSize(s.serving)
	s.mu.Lock()
	old := s.serving
	s.serving = g
	if done {
		s.building, s.buildJob = nil, false
	}
	s.mu.Unlock()
	s.retired.Add(1)
	go func() {
		defer s.retired.Done()
		old.refs.Wait()
		if err := old.close(); err != nil {
			s.opts.Logger.Warn("closing the replaced index generation failed", "generation", old.m.Name, "err", err)
		}
	}()
}

// recordSize writes a generation's document and passage counts into its
// manifest on disk as it stops serving, so that listings can show them
// without opening it. g.m stays as it is: searches still pinned to g read
// it without a lock, and nothing reads the counts from memory. A failure
// costs only the listing and is logged.
func (s *Store) recordSize(g *generation) {
	r, err := g.reader()
	if err == nil {
		var st store.Stats
		st, err = g.stats(r)
		r.Close()
		if err == nil {
			m := g.m
			m.Documents, m.Chunks = st.Documents, st.Chunks
			err = writeManifest(g.dir, m)
		}
	}
	if err != nil {
		s.opts.Logger.Warn("recording the size of the replaced generation failed", "generation", g.m.Name, "err", err)
	}
}

// Abort discards the new generation: it stops receiving writes and its
// directory is removed. The serving generation is untouched.
func (b *Build) Abort() error {
	b.s.writeMu.Lock()
	defer b.s.writeMu.Unlock()
	b.s.setBuilding(nil, false)
	// After Close the generation is closed already; its directory goes.
	return removeGeneration(b.g)
}

// checkOpen returns ErrClosed once Close has begun. The caller holds
// writeMu, which Close takes first.
func (s *Store) checkOpen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

// Pause ends the job without finishing or discarding the generation: it
// keeps receiving writes, and a later BeginBuild with the same source
// resumes it.
func (b *Build) Pause() {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	b.s.buildJob = false
}
