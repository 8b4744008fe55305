package qdrant

import (
	"context"
	"fmt"
	"slices"

	"github.com/qdrant/go-client/qdrant"

	"github.com/cari-search/cari/store"
)

// Collection metadata of a generation being built.
const (
	metaBuildSource   = "cari_build_source"
	metaBuildPosition = "cari_build_position"
)

// buildingAlias names the generation a reindex is building, so that every
// writer (any replica or worker) also writes there and nothing
// acknowledged during the build is missing after the swap.
func (s *Store) buildingAlias() string { return s.opts.named("building") }

// Build is a generation being built by a reindex, beside the serving one,
// in its own collection under the building alias. Its batches record how
// far into the source they reach (Position), so a job stopped at any point
// resumes after the last recorded batch. One build per alias at a time.
type Build struct {
	s       *Store // the serving store
	g       *Store // the new collection
	resumed bool
}

// BeginBuild starts building a new generation from source, a description
// of the source that identifies the job. An unfinished build from the same
// source with the same embedding model is resumed; one from another source
// is discarded.
func (s *Store) BeginBuild(source string) (*Build, error) {
	ctx := context.Background()
	client, err := s.conn()
	if err != nil {
		return nil, err
	}
	old, err := s.resolveAlias(ctx, s.buildingAlias())
	if err != nil {
		return nil, err
	}
	if old != "" {
		g, same, err := s.openBuilt(ctx, old, source)
		if err != nil {
			return nil, err
		}
		if same {
			s.opts.Logger.Info("resuming the unfinished reindex", "collection", old, "source", source)
			return &Build{s: s, g: g, resumed: true}, nil
		}
		s.opts.Logger.Warn("discarding an unfinished reindex built from another source or model", "collection", old)
		if err := s.dropBuilding(ctx, old); err != nil {
			return nil, err
		}
	}
	g, err := s.NewGeneration(ctx)
	if err != nil {
		return nil, err
	}
	coll := g.Collection()
	err = client.UpdateCollection(ctx, &qdrant.UpdateCollection{CollectionName: coll, Metadata: map[string]*qdrant.Value{
		metaBuildSource: qdrant.NewValueString(source), metaBuildPosition: qdrant.NewValueInt(0),
	}})
	if err == nil {
		err = client.UpdateAliases(ctx, []*qdrant.AliasOperations{qdrant.NewAliasCreate(s.buildingAlias(), coll)})
	}
	if err != nil {
		_ = client.DeleteCollection(ctx, coll)
		return nil, fmt.Errorf("start building %s: %w", coll, err)
	}
	return &Build{s: s, g: g}, nil
}

// openBuilt opens the unfinished build coll, and reports whether it was
// built from source with this process's model.
func (s *Store) openBuilt(ctx context.Context, coll, source string) (*Store, bool, error) {
	info, err := s.client.GetCollectionInfo(ctx, coll)
	if err != nil {
		return nil, false, fmt.Errorf("read unfinished build %s: %w", coll, err)
	}
	if info.GetConfig().GetMetadata()[metaBuildSource].GetStringValue() != source {
		return nil, false, nil
	}
	g, err := s.generation(ctx, coll)
	if err != nil {
		// Another model or analyzer: not resumable.
		return nil, false, nil
	}
	return g, true, nil
}

func (s *Store) dropBuilding(ctx context.Context, coll string) error {
	err := s.client.UpdateAliases(ctx, []*qdrant.AliasOperations{qdrant.NewAliasDelete(s.buildingAlias())})
	if err != nil {
		return fmt.Errorf("drop alias %s: %w", s.buildingAlias(), err)
	}
	if err := s.client.DeleteCollection(ctx, coll); err != nil {
		return fmt.Errorf("drop collection %s: %w", coll, err)
	}
	return nil
}

// building returns a store on the generation being built, nil when there
// is none. Writers ask on every write, so a build started by another
// process is written to from the next batch on; and a swap made by another
// process is followed (see follow).
func (s *Store) building(ctx context.Context) (*Store, error) {
	aliases, err := s.aliases(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.follow(ctx, aliases[s.opts.Alias]); err != nil {
		return nil, err
	}
	coll := aliases[s.buildingAlias()]
	if coll == "" || coll == s.Collection() {
		return nil, nil
	}
	s.mu.Lock()
	b := s.build
	s.mu.Unlock()
	if b != nil && b.Collection() == coll {
		return b, nil
	}
	b, err = s.generation(ctx, coll)
	if err != nil {
		return nil, fmt.Errorf("open generation %s being built: %w", coll, err)
	}
	s.mu.Lock()
	s.build = b
	s.mu.Unlock()
	return b, nil
}

// Name is the new generation's collection.
func (b *Build) Name() string { return b.g.Collection() }

// Resumed reports whether BeginBuild took up an unfinished build.
func (b *Build) Resumed() bool { return b.resumed }

// Position returns how far into the source the recorded batches reach: 0
// for a new build.
func (b *Build) Position() (int64, error) {
	info, err := b.g.client.GetCollectionInfo(context.Background(), b.Name())
	if err != nil {
		return 0, fmt.Errorf("read reindex position of %s: %w", b.Name(), err)
	}
	return info.GetConfig().GetMetadata()[metaBuildPosition].GetIntegerValue(), nil
}

// Commit writes entries to the new generation, then records position. A
// job stopped between the two writes the batch again when it resumes,
// which replaces the same documents.
func (b *Build) Commit(ctx context.Context, entries []store.Entry, position int64) error {
	if err := b.g.upsert(ctx, entries); err != nil {
		return err
	}
	client, err := b.g.conn()
	if err != nil {
		return err
	}
	err = client.UpdateCollection(ctx, &qdrant.UpdateCollection{CollectionName: b.Name(),
		Metadata: map[string]*qdrant.Value{metaBuildPosition: qdrant.NewValueInt(position)}})
	if err != nil {
		return fmt.Errorf("record reindex position of %s: %w", b.Name(), err)
	}
	return nil
}

// Finalize has nothing to do: Qdrant indexes the vectors itself as points
// arrive.
func (b *Build) Finalize(ctx context.Context) error { return ctx.Err() }

// Swap makes the new generation serve: one alias change, which readers see
// whole, points the serving alias at it and drops the building alias. The
// old collection stays for rollback until it is dropped (DropCollection).
//
// Qdrant runs a request's alias actions in order and keeps those before a
// failing one (qdranttest.UpdateAliases cites where), so the serving alias
// is moved by creating it over itself (an overwrite), first: a failure
// then leaves it where it was, never deleted; one that comes after the move
// is reported as such.
func (b *Build) Swap(ctx context.Context) error {
	client, err := b.s.conn()
	if err != nil {
		return err
	}
	ops := []*qdrant.AliasOperations{
		qdrant.NewAliasCreate(b.s.opts.Alias, b.Name()),
		qdrant.NewAliasDelete(b.s.buildingAlias()),
	}
	if err := client.UpdateAliases(ctx, ops); err != nil {
		if serving, rerr := b.s.resolveAlias(ctx, b.s.opts.Alias); rerr == nil && serving == b.Name() {
			return fmt.Errorf("swapped in %s, but alias %s still names it: %w", b.Name(), b.s.buildingAlias(), err)
		}
		return fmt.Errorf("swap in %s: %w", b.Name(), err)
	}
	if err := b.s.loadMeta(ctx, b.Name()); err != nil {
		return fmt.Errorf("swapped in %s, but: %w", b.Name(), err)
	}
	b.s.opts.Logger.Info("swapped in the new index generation", "collection", b.Name())
	return nil
}

// Abort discards the new generation.
func (b *Build) Abort() error {
	if _, err := b.s.conn(); err != nil {
		return err
	}
	return b.s.dropBuilding(context.Background(), b.Name())
}

// Pause ends the job without finishing or discarding the generation: it
// keeps receiving writes, and a later BeginBuild with the same source
// resumes it.
func (b *Build) Pause() {}

// DocumentIDs returns the IDs of every stored document, sorted, for a
// reindex that rebuilds the serving generation from its own documents: a
// resumed job lists them in the same order. (Qdrant scrolls in the order of
// point IDs, which are hashes.)
func (s *Store) DocumentIDs(ctx context.Context) ([]string, error) {
	client, err := s.conn()
	if err != nil {
		return nil, err
	}
	var ids []string
	var offset *qdrant.PointId
	for {
		pts, next, err := client.ScrollAndOffset(ctx, &qdrant.ScrollPoints{
			CollectionName: s.target, WithPayload: qdrant.NewWithPayloadInclude(fieldID),
			WithVectors: qdrant.NewWithVectors(false), Limit: qdrant.PtrOf(uint32(1000)), Offset: offset,
		})
		if err != nil {
			return nil, fmt.Errorf("list documents of %s: %w", s.target, err)
		}
		for _, p := range pts {
			ids = append(ids, p.GetPayload()[fieldID].GetStringValue())
		}
		if next == nil {
			slices.Sort(ids)
			return ids, nil
		}
		offset = next
	}
}
