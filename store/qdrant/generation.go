package qdrant

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cari-search/cari/store"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
	// Creating over the alias moves it in one action; a delete before it
	// would stay done if the create failed (Qdrant keeps the actions before
	// a failing one), leaving no serving generation.
	ops := []*qdrant.AliasOperations{qdrant.NewAliasCreate(s.opts.Alias, coll)}
	if err := client.UpdateAliases(ctx, ops); err != nil {
		return "", fmt.Errorf("point alias %s at %s: %w", s.opts.Alias, coll, err)
	}
	return previous, nil
}

// createFirstGeneration makes the alias's first generation, when the alias
// names none, and returns the collection the alias then names.
//
// Serve replicas and a worker starting together all come here at once, and
// Qdrant has no compare-and-set for an alias: creating one that exists
// points it elsewhere without error (AliasPersistence::insert, a map insert,
// in lib/storage/src/content_manager/alias_mapping.rs). Were each process to
// create a generation of its own, the alias would end on one of them and the
// others would have written, until then, where nobody reads. So the first
// generation has a fixed name, and Qdrant creates a name once: under its
// collection_create_lock it refuses one that exists with ALREADY_EXISTS
// (lib/storage/src/content_manager/toc/create_collection.rs and
// collections_ops.rs, validate_collection_not_exists; the code since Qdrant
// 1.8, qdrant/qdrant#3422). One process creates it; the others open the same
// collection (loadMeta then checks it as any other) and complete its payload
// indexes, in case its creator stopped before them. The alias is set only
// when it still names nothing, and always to that one collection; only a
// generation built and promoted between that check and the set, one request
// apart, could be overwritten.
//
// A collection of that name left without its alias (by hand) is served
// again rather than replaced by an empty one: it loses nothing.
func (s *Store) createFirstGeneration(ctx context.Context) (string, error) {
	name := s.firstGenerationName()
	err := s.createCollection(ctx, name)
	switch {
	case status.Code(err) == codes.AlreadyExists:
		s.opts.Logger.Info("opening the first qdrant generation another process created", "collection", name)
		if err := s.createPayloadIndexes(ctx, name); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	}
	// Another process may have set the alias meanwhile; keep what it set.
	if coll, err := s.resolveAlias(ctx, s.opts.Alias); err != nil || coll != "" {
		return coll, err
	}
	err = s.client.UpdateAliases(ctx, []*qdrant.AliasOperations{qdrant.NewAliasCreate(s.opts.Alias, name)})
	if err != nil {
		return "", fmt.Errorf("alias %s to %s: %w", s.opts.Alias, name, err)
	}
	return name, nil
}

// firstGenerationName names the generation made when the alias names none:
// the same in every process (see createFirstGeneration).
func (s *Store) firstGenerationName() string { return s.opts.named("first") }

// newCollectionName names a new generation: the alias and the time, so
// that names sort by age and GC knows its alias's generations.
func (s *Store) newCollectionName() string {
	return s.opts.named(time.Now().UTC().Format(generationTime))
}

const generationTime = "20060102t150405.000000"

// isGeneration reports whether collection name is one of the alias's
// generations: the first one, or one named by newCollectionName.
func (s *Store) isGeneration(name string) bool {
	_, ok := s.nameTime(name)
	return ok || name == s.firstGenerationName()
}

// nameTime returns the creation time a generation's name carries
// (newCollectionName), if it carries one.
func (s *Store) nameTime(name string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(name, s.opts.named(""))
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(generationTime, rest)
	return t, err == nil
}

// generationCreated returns when generation name was created: from its name
// when that carries the time, else from its metadata (the first
// generation). A time that cannot be known is the zero time, the oldest.
func (s *Store) generationCreated(ctx context.Context, client *qdrant.Client, name string) (time.Time, error) {
	if t, ok := s.nameTime(name); ok {
		return t, nil
	}
	info, err := client.GetCollectionInfo(ctx, name)
	if err != nil {
		return time.Time{}, fmt.Errorf("read collection info of %s: %w", name, err)
	}
	return metaCreatedTime(info.GetConfig().GetMetadata()), nil
}

// metaCreatedTime reads metaCreated; zero when absent or unreadable.
func metaCreatedTime(md map[string]*qdrant.Value) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, md[metaCreated].GetStringValue())
	return t
}

// Generations lists the alias's generations, oldest first: the collection
// it serves, the one a reindex builds (under the building alias), and those
// a swap replaced that GC has not dropped. Documents and passages are
// counted now in each (a replaced one takes no more writes); Qdrant reports
// no size on disk, so SizeBytes is 0.
func (s *Store) Generations(ctx context.Context) ([]store.Generation, error) {
	client, names, aliases, err := s.collections(ctx)
	if err != nil {
		return nil, err
	}
	serving, building := aliases[s.opts.Alias], aliases[s.buildingAlias()]
	var out []store.Generation
	for _, n := range names {
		if !s.isGeneration(n) && n != serving && n != building {
			continue
		}
		created, _ := s.nameTime(n)
		g := store.Generation{Name: n, State: store.GenerationRetired, Created: created}
		switch n {
		case serving:
			g.State = store.GenerationServing
		case building:
			g.State = store.GenerationBuilding
		}
		if err := s.describeGeneration(ctx, client, &g); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b store.Generation) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.Name, b.Name))
	})
	return out, nil
}

// collections lists every collection of the cluster and maps every alias
// to its collection, with the client that asked.
func (s *Store) collections(ctx context.Context) (client *qdrant.Client, names []string, aliases map[string]string, err error) {
	if client, err = s.conn(); err != nil {
		return nil, nil, nil, err
	}
	if names, err = client.ListCollections(ctx); err != nil {
		return nil, nil, nil, fmt.Errorf("list collections: %w", err)
	}
	if aliases, err = s.aliases(ctx); err != nil {
		return nil, nil, nil, err
	}
	return client, names, aliases, nil
}

// describeGeneration fills in g's analysis, model, source and counts from
// its collection.
func (s *Store) describeGeneration(ctx context.Context, client *qdrant.Client, g *store.Generation) error {
	info, err := client.GetCollectionInfo(ctx, g.Name)
	if err != nil {
		return fmt.Errorf("read collection info of %s: %w", g.Name, err)
	}
	md := info.GetConfig().GetMetadata()
	g.Analyzer = md[metaAnalyzer].GetStringValue()
	g.Vectors = store.VectorSpace{Model: md[metaModel].GetStringValue(), Dim: int(md[metaDim].GetIntegerValue())}
	g.Source = md[metaBuildSource].GetStringValue()
	if g.Created.IsZero() {
		g.Created = metaCreatedTime(md)
	}
	g.Documents, g.Chunks, err = count(ctx, client, g.Name)
	return err
}

// GC drops the alias's generations that no alias points to (replaced by a
// swap, or abandoned), keeping the newest keep of them for rollback (all of
// them when keep is negative), and returns the names dropped.
func (s *Store) GC(keep int) ([]string, error) {
	if keep < 0 {
		return nil, nil
	}
	ctx := context.Background()
	client, names, aliases, err := s.collections(ctx)
	if err != nil {
		return nil, err
	}
	inUse := map[string]bool{}
	for _, coll := range aliases {
		inUse[coll] = true
	}
	type retired struct {
		name    string
		created time.Time
	}
	var old []retired
	for _, n := range names {
		if !s.isGeneration(n) || inUse[n] {
			continue
		}
		created, err := s.generationCreated(ctx, client, n)
		if err != nil {
			return nil, err
		}
		old = append(old, retired{n, created})
	}
	// By age, not name: the first generation's name carries no time.
	slices.SortFunc(old, func(a, b retired) int {
		return cmp.Or(a.created.Compare(b.created), strings.Compare(a.name, b.name))
	})
	if len(old) <= keep {
		return nil, nil
	}
	var drop []string
	for _, g := range old[:len(old)-keep] {
		if err := client.DeleteCollection(ctx, g.name); err != nil {
			return nil, fmt.Errorf("drop collection %s: %w", g.name, err)
		}
		drop = append(drop, g.name)
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
