package qdrant

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qdrant/go-client/qdrant"
)

// NewGeneration creates an empty collection beside the serving one and
// returns a store that writes to it (sharing this store's connection). A
// reindex fills it, then Promote makes it the serving generation.
func (s *Store) NewGeneration(ctx context.Context) (*Store, error) {
	if _, err := s.conn(); err != nil {
		return nil, err
	}
	name := s.newCollectionName()
	if err := s.createCollection(ctx, name); err != nil {
		return nil, err
	}
	g, err := s.generation(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("open new generation %s: %w", name, err)
	}
	return g, nil
}

// generation returns a store that reads and writes collection coll, a
// generation other than the serving one, on this store's connection. It is
// never open for a rebuild: coll is written with this process's model.
func (s *Store) generation(ctx context.Context, coll string) (*Store, error) {
	opts := s.opts
	opts.Rebuild = false
	g := &Store{client: s.client, opts: opts, analysis: s.analysis, target: coll}
	if err := g.loadMeta(ctx, coll); err != nil {
		return nil, err
	}
	return g, nil
}

// Promote points the alias at this store's collection, in one atomic alias
// change, and returns the collection it pointed to before ("" if none).
// Every replica reading through the alias serves the new generation from
// its next request.
func (s *Store) Promote(ctx context.Context) (previous string, err error) {
	client, err := s.conn()
	if err != nil {
		return "", err
	}
	previous, err = s.resolveAlias(ctx, s.opts.Alias)
	if err != nil {
		return "", err
	}
	coll := s.Collection()
	ops := []*qdrant.AliasOperations{qdrant.NewAliasCreate(s.opts.Alias, coll)}
	if previous != "" {
		ops = append([]*qdrant.AliasOperations{qdrant.NewAliasDelete(s.opts.Alias)}, ops...)
	}
	if err := client.UpdateAliases(ctx, ops); err != nil {
		return "", fmt.Errorf("point alias %s at %s: %w", s.opts.Alias, coll, err)
	}
	return previous, nil
}

// newCollectionName names a new generation: the alias and the time, so
// that names sort by age and GC knows its alias's generations.
func (s *Store) newCollectionName() string {
	return s.opts.Alias + "-" + time.Now().UTC().Format(generationTime)
}

const generationTime = "20060102t150405.000000"

// GC drops the alias's generations that no alias points to (replaced by a
// swap, or abandoned), keeping the newest keep of them for rollback (all of
// them when keep is negative), and returns the names dropped.
func (s *Store) GC(keep int) ([]string, error) {
	if keep < 0 {
		return nil, nil
	}
	ctx := context.Background()
	client, err := s.conn()
	if err != nil {
		return nil, err
	}
	names, err := client.ListCollections(ctx)
	if err != nil {
		return nil, fmt.Errorf("list collections: %w", err)
	}
	aliases, err := client.ListAliases(ctx)
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	inUse := map[string]bool{}
	for _, a := range aliases {
		inUse[a.GetCollectionName()] = true
	}
	var old []string
	prefix := s.opts.Alias + "-"
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, prefix)
		if _, err := time.Parse(generationTime, rest); ok && err == nil && !inUse[n] {
			old = append(old, n)
		}
	}
	slices.Sort(old)
	if len(old) <= keep {
		return nil, nil
	}
	drop := old[:len(old)-keep]
	for _, n := range drop {
		if err := client.DeleteCollection(ctx, n); err != nil {
			return nil, fmt.Errorf("drop collection %s: %w", n, err)
		}
	}
	return drop, nil
}

// DropCollection deletes a collection, such as a generation a reindex
// replaced. The serving one is refused.
func (s *Store) DropCollection(ctx context.Context, name string) error {
	client, err := s.conn()
	if err != nil {
		return err
	}
	serving, err := s.resolveAlias(ctx, s.opts.Alias)
	if err != nil {
		return err
	}
	if name == serving {
		return fmt.Errorf("collection %s is serving (alias %s); promote another generation first", name, s.opts.Alias)
	}
	if err := client.DeleteCollection(ctx, name); err != nil {
		return fmt.Errorf("delete collection %s: %w", name, err)
	}
	return nil
}

// Snapshot asks Qdrant for a snapshot of this store's collection (on each
// node, of its shards) and returns its name; Qdrant keeps it in its
// snapshots directory, from where it can be downloaded or recovered.
func (s *Store) Snapshot(ctx context.Context) (string, error) {
	client, err := s.conn()
	if err != nil {
		return "", err
	}
	coll := s.Collection()
	d, err := client.CreateSnapshot(ctx, coll)
	if err != nil {
		return "", fmt.Errorf("snapshot %s: %w", coll, err)
	}
	return d.GetName(), nil
}

// DropAlias removes the alias (not the collection it points to).
func (s *Store) DropAlias(ctx context.Context) error {
	client, err := s.conn()
	if err != nil {
		return err
	}
	if err := client.UpdateAliases(ctx, []*qdrant.AliasOperations{qdrant.NewAliasDelete(s.opts.Alias)}); err != nil {
		return fmt.Errorf("delete alias %s: %w", s.opts.Alias, err)
	}
	return nil
}

// pinKey holds, in a context, the collection a store's reads use.
type pinKey struct{ s *Store }

// Pin resolves the alias once and holds the collection it names for the
// reads made with the returned context, so that a search running across a
// swap reads one generation throughout (searcher.Pinner). The replaced
// collection stays until GC drops it, which keeps the newest replaced one.
func (s *Store) Pin(ctx context.Context) (context.Context, func(), error) {
	if s.target != s.opts.Alias {
		return ctx, func() {}, nil // a generation being built: already one collection
	}
	coll, err := s.resolveAlias(ctx, s.opts.Alias)
	if err != nil {
		return nil, nil, err
	}
	if coll == "" {
		return nil, nil, fmt.Errorf("alias %s names no collection", s.opts.Alias)
	}
	if err := s.follow(ctx, coll); err != nil {
		return nil, nil, err
	}
	return context.WithValue(ctx, pinKey{s}, coll), func() {}, nil
}

// readTarget is what reads name: the pinned collection, else the target.
func (s *Store) readTarget(ctx context.Context) string {
	if c, ok := ctx.Value(pinKey{s}).(string); ok {
		return c
	}
	return s.target
}
