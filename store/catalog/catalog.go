// Package catalog keeps a data directory's named collections and the
// aliases that point at them. A collection is a directory of its own under
// the data directory, holding one store (its documents, generations and
// reindex jobs), with the settings it was created with; an alias names a
// collection, so that clients can be moved from one collection to another
// in one atomic step (blue-green reindexing of a whole corpus).
//
// The catalog knows no concrete store: the caller opens each collection's
// directory (Dir) with the store it uses. Layout:
//
//	DATA/LOCK                    held by the process that has DATA open
//	DATA/catalog.json            the collections, their settings and the aliases
//	DATA/collections/NAME/       one collection's store (store/local's layout)
//
// catalog.json is replaced atomically (internal/atomicfile), and it is the
// commit point of every change: a collection exists once it names it, and a
// directory under collections/ it does not name is the remains of a delete
// (or of a create that never committed), removed at the next Open.
package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cari-search/cari/internal/atomicfile"
	"github.com/cari-search/cari/internal/dirlock"
)

// Default is the collection that always exists: requests and commands that
// name no collection use it, and a data directory made before collections
// existed opens as it.
const Default = "default"

const (
	catalogFile    = "catalog.json"
	collectionsDir = "collections"
	formatVersion  = 1
)

// namePattern is the form of collection and alias names: lowercase, safe
// as a directory name, a URL path segment and a metric label.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

var (
	// ErrNotFound is returned for a name that is neither a collection nor
	// an alias.
	ErrNotFound = errors.New("no such collection")
	// ErrExists is returned when creating a collection or alias whose name
	// is taken.
	ErrExists = errors.New("name already taken")
	// ErrInUse is returned when deleting Default, or a collection an
	// alias points at.
	ErrInUse = errors.New("collection in use")
	// ErrLocked is returned by Open when another process has the data
	// directory open. It is dirlock.ErrLocked, as store/local's is.
	ErrLocked = dirlock.ErrLocked
	// ErrNoIndex is returned by Open with Options.MustExist when the data
	// directory does not exist or holds no index. It is dirlock.ErrNoIndex.
	ErrNoIndex = dirlock.ErrNoIndex
)

// CheckName reports a name that is not a valid collection or alias name.
func CheckName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%q is not a collection name: 1 to 63 of a-z, 0-9, _ and -, starting with a letter or digit", name)
	}
	return nil
}

// Collection is one collection as the catalog records it.
type Collection struct {
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	Settings Settings  `json:"settings"`
	// Store is the store that holds its documents when that is not its
	// directory: "qdrant" (Options.Store of the process that created it);
	// "" is the local store, in Dir. Default records none: it is opened
	// with whichever store the process names, as before collections.
	Store string `json:"store,omitempty"`
}

// Alias points Name at the collection Collection.
type Alias struct {
	Name       string `json:"name"`
	Collection string `json:"collection"`
}

// record is catalog.json.
type record struct {
	Format      int                    `json:"format"`
	Collections map[string]*Collection `json:"collections"`
	Aliases     map[string]string      `json:"aliases,omitempty"`
}

// Options configure Open. The zero value is usable.
type Options struct {
	// MustExist makes Open fail with ErrNoIndex, naming the path, when the
	// directory does not exist or holds neither a catalog nor an index
	// from before collections, instead of creating one.
	MustExist bool
	// ServeAddr is the gRPC address this process serves the data
	// directory on, if it does. The lock file records it with this
	// process's id, as store/local records its holder, so that a process
	// refused with ErrLocked says who holds the directory and can ask that
	// server instead (dirlock.ServerOf).
	ServeAddr string
	// Logger receives the migration's messages; nil discards them.
	Logger *slog.Logger
	// Store is recorded as Collection.Store in the collections this
	// process creates: "" for the local store, or "qdrant".
	Store string
	// Drop deletes the documents a collection keeps outside its
	// directory (Collection.Store), when Delete removes it. Without it,
	// Delete refuses such a collection rather than leave them behind.
	Drop func(c Collection) error
}

// Catalog is the open catalog of one data directory. It holds the
// directory's lock until Close. It is safe for concurrent use.
type Catalog struct {
	dir  string
	lock *os.File
	log  *slog.Logger
	opts Options

	mu  sync.Mutex
	rec record
}

// Open opens the catalog of the data directory dir, creating it (with the
// collection Default) if the directory has none. A directory that holds an
// index made before collections existed is moved into the collection
// Default first (see migrate), which a crash at any point leaves resumable.
func Open(dir string, opts Options) (*Catalog, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.MustExist {
		if err := checkExists(dir); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	lock, err := dirlock.Lock(dir, dirlock.Self(opts.ServeAddr))
	if err != nil {
		return nil, err
	}
	c := &Catalog{dir: dir, lock: lock, log: log, opts: opts}
	if err := c.load(); err != nil {
		lock.Close()
		return nil, err
	}
	return c, nil
}

// load reads catalog.json, migrating or creating it first when it is
// missing, and sweeps the directories no collection owns.
func (c *Catalog) load() error {
	b, err := os.ReadFile(filepath.Join(c.dir, catalogFile))
	if errors.Is(err, os.ErrNotExist) {
		if err := migrate(c.dir, c.log, nil); err != nil {
			return fmt.Errorf("move the index of %s into collection %s: %w", c.dir, Default, err)
		}
		b, err = os.ReadFile(filepath.Join(c.dir, catalogFile))
	}
	if err != nil {
		return fmt.Errorf("read the collection catalog: %w", err)
	}
	if err := json.Unmarshal(b, &c.rec); err != nil {
		return fmt.Errorf("%s is damaged (%v): restore it from a backup, or write {\"format\":1,\"collections\":{\"default\":{\"name\":\"default\"}}} and one entry per directory under %s",
			filepath.Join(c.dir, catalogFile), err, filepath.Join(c.dir, collectionsDir))
	}
	if c.rec.Format != formatVersion {
		return fmt.Errorf("%s has format %d; this build reads format %d", filepath.Join(c.dir, catalogFile), c.rec.Format, formatVersion)
	}
	if c.rec.Collections[Default] == nil {
		return fmt.Errorf("%s names no collection %s, which always exists: the file is damaged", filepath.Join(c.dir, catalogFile), Default)
	}
	if c.rec.Aliases == nil {
		c.rec.Aliases = map[string]string{}
	}
	return c.sweep()
}

// sweep removes the directories under collections/ that no collection
// owns: a delete or create cut short by a crash.
func (c *Catalog) sweep() error {
	entries, err := os.ReadDir(filepath.Join(c.dir, collectionsDir))
	if err != nil {
		return fmt.Errorf("list collections: %w", err)
	}
	for _, e := range entries {
		if _, ok := c.rec.Collections[e.Name()]; ok || !e.IsDir() {
			continue
		}
		c.log.Info("removing the remains of a deleted collection", "dir", filepath.Join(c.dir, collectionsDir, e.Name()))
		if err := os.RemoveAll(filepath.Join(c.dir, collectionsDir, e.Name())); err != nil {
			return fmt.Errorf("remove the remains of a deleted collection: %w", err)
		}
	}
	return nil
}

// Close releases the data directory.
func (c *Catalog) Close() error {
	if c.lock == nil {
		return nil
	}
	err := c.lock.Close()
	c.lock = nil
	return err
}

// DataDir returns the data directory the catalog was opened on.
func (c *Catalog) DataDir() string { return c.dir }

// Dir returns the directory of the collection name (not an alias), where
// its store lives.
func (c *Catalog) Dir(name string) string { return Dir(c.dir, name) }

// Dir returns the directory of collection name in the data directory
// dataDir, for a process that opens it without the catalog (a test, or a
// tool reading a stopped server's files).
func Dir(dataDir, name string) string {
	return filepath.Join(dataDir, collectionsDir, name)
}

// Resolve returns the collection name names: itself, or the collection an
// alias points at; "" is Default. An unknown name is ErrNotFound, naming it.
func (c *Catalog) Resolve(name string) (Collection, error) {
	if name == "" {
		name = Default
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if target, ok := c.rec.Aliases[name]; ok {
		name = target
	}
	col, ok := c.rec.Collections[name]
	if !ok {
		return Collection{}, fmt.Errorf("collection %q: %w", name, ErrNotFound)
	}
	return *col, nil
}

// List returns the collections, ordered by name.
func (c *Catalog) List() []Collection {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Collection, 0, len(c.rec.Collections))
	for _, col := range c.rec.Collections {
		out = append(out, *col)
	}
	slices.SortFunc(out, func(a, b Collection) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Aliases returns the aliases, ordered by name.
func (c *Catalog) Aliases() []Alias {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Alias, 0, len(c.rec.Aliases))
	for a, col := range c.rec.Aliases {
		out = append(out, Alias{Name: a, Collection: col})
	}
	slices.SortFunc(out, func(a, b Alias) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Create adds the collection name with settings s and makes its directory.
func (c *Catalog) Create(name string, s Settings) (Collection, error) {
	if err := CheckName(name); err != nil {
		return Collection{}, err
	}
	if err := s.Validate(); err != nil {
		return Collection{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.taken(name); err != nil {
		return Collection{}, err
	}
	// The directory first, the record last: a crash between them leaves
	// a directory no collection owns, which the next Open removes.
	dir := c.Dir(name)
	if err := os.RemoveAll(dir); err != nil {
		return Collection{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Collection{}, fmt.Errorf("create collection %s: %w", name, err)
	}
	col := &Collection{Name: name, Created: time.Now().UTC(), Settings: s, Store: c.opts.Store}
	next := c.rec.clone()
	next.Collections[name] = col
	if err := c.commit(next); err != nil {
		return Collection{}, err
	}
	return *col, nil
}

// taken reports a name already used by a collection or an alias; c.mu is
// held.
func (c *Catalog) taken(name string) error {
	if _, ok := c.rec.Collections[name]; ok {
		return fmt.Errorf("collection %q: %w (a collection)", name, ErrExists)
	}
	if target, ok := c.rec.Aliases[name]; ok {
		return fmt.Errorf("collection %q: %w (an alias of %s)", name, ErrExists, target)
	}
	return nil
}

// Update replaces the settings of collection name (not an alias) with
// those change makes of them. Settings that a built index depends on (the
// embedding model) cannot change: that is a new collection, or a reindex.
func (c *Catalog) Update(name string, change func(*Settings) error) (Collection, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	col, ok := c.rec.Collections[name]
	if !ok {
		return Collection{}, fmt.Errorf("collection %q: %w", name, ErrNotFound)
	}
	s := col.Settings
	if err := change(&s); err != nil {
		return Collection{}, err
	}
	if err := s.Validate(); err != nil {
		return Collection{}, err
	}
	if err := col.Settings.CheckUpdate(s); err != nil {
		return Collection{}, err
	}
	next := c.rec.clone()
	updated := *col
	updated.Settings = s
	next.Collections[name] = &updated
	if err := c.commit(next); err != nil {
		return Collection{}, err
	}
	return updated, nil
}

// Delete removes the collection name (not an alias) and its directory.
// Default cannot be deleted, nor a collection an alias points at (move
// the alias first, so that no client is left pointing at nothing).
func (c *Catalog) Delete(name string) error {
	if name == Default {
		return fmt.Errorf("collection %s: %w: it always exists and cannot be deleted", Default, ErrInUse)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	col, ok := c.rec.Collections[name]
	if !ok {
		if target, ok := c.rec.Aliases[name]; ok {
			return fmt.Errorf("%q is an alias of collection %s: delete the alias, or name the collection", name, target)
		}
		return fmt.Errorf("collection %q: %w", name, ErrNotFound)
	}
	var aliases []string
	for a, target := range c.rec.Aliases {
		if target == name {
			aliases = append(aliases, a)
		}
	}
	if len(aliases) > 0 {
		slices.Sort(aliases)
		return fmt.Errorf("collection %s: %w: it has aliases %s: point them elsewhere or delete them first", name, ErrInUse, strings.Join(aliases, ", "))
	}
	if err := c.dropOutside(*col); err != nil {
		return err
	}
	next := c.rec.clone()
	delete(next.Collections, name)
	if err := c.commit(next); err != nil {
		return err
	}
	// Committed: the directory is now the remains that a crash here
	// leaves for the next Open to remove.
	if err := os.RemoveAll(c.Dir(name)); err != nil {
		c.log.Warn("collection deleted, but its directory remains until the next open", "dir", c.Dir(name), "err", err)
	}
	return nil
}

// dropOutside deletes what collection col keeps outside its directory,
// before the catalog forgets it: a crash or failure in between leaves it
// named, and deleting it again drops the rest (Options.Drop deletes what
// is there), where the other order would leave documents no catalog names.
func (c *Catalog) dropOutside(col Collection) error {
	if col.Store == "" {
		return nil
	}
	if c.opts.Drop == nil {
		return fmt.Errorf("collection %s keeps its documents in %s: delete it from a process that opens that store (cari serve --store %s, DeleteCollection), so that they go with it", col.Name, col.Store, col.Store)
	}
	if err := c.opts.Drop(col); err != nil {
		return fmt.Errorf("collection %s: delete its documents in %s: %w", col.Name, col.Store, err)
	}
	return nil
}

// commit writes next as catalog.json and makes it the catalog; c.mu is
// held.
func (c *Catalog) commit(next record) error {
	if err := writeRecord(c.dir, next); err != nil {
		return fmt.Errorf("write the collection catalog: %w", err)
	}
	c.rec = next
	return nil
}

func writeRecord(dir string, r record) error {
	return atomicfile.Write(filepath.Join(dir, catalogFile), 0o644, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	})
}

func (r record) clone() record {
	out := record{Format: r.Format, Collections: make(map[string]*Collection, len(r.Collections)), Aliases: make(map[string]string, len(r.Aliases))}
	for k, v := range r.Collections {
		out.Collections[k] = v
	}
	for k, v := range r.Aliases {
		out.Aliases[k] = v
	}
	return out
}

// checkExists refuses a data directory that does not exist or holds
// neither a catalog nor an index from before collections, naming the path.
func checkExists(dir string) error {
	return dirlock.CheckIndex(dir, func() (bool, error) {
		// catalog.json, or an index from before collections, or one whose
		// move into Default a crash cut short (collections/ made, no
		// catalog written yet).
		for _, name := range []string{catalogFile, legacyCurrent, collectionsDir} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				return true, nil
			}
		}
		return false, nil
	})
}

// Ensure resolves name as Resolve does and, when it names nothing and
// create is set, creates it with settings s: the commands and calls that
// write into a collection make it on first use.
func (c *Catalog) Ensure(name string, create bool, s Settings) (Collection, error) {
	col, err := c.Resolve(name)
	if errors.Is(err, ErrNotFound) && create {
		return c.Create(name, s)
	}
	return col, err
}

// HasIndex reports whether dir holds a catalog or an index made before
// collections, which Open with MustExist opens.
func HasIndex(dir string) bool { return checkExists(dir) == nil }
