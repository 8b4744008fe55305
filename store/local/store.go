// Package local is Cari's embedded store: one data directory holding, per
// index generation, a bleve index with the keyword postings and the stored
// documents. It needs nothing else running.
package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari/internal/dirlock"
	"github.com/cari-search/cari/store"
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// BM25 parameters; zero means store.DefaultBM25.
	BM25 store.BM25
	// IndonesianBM25 are the Indonesian body field's BM25 parameters,
	// which BM25 does not change; zero means store.DefaultIndonesianBM25.
	IndonesianBM25 store.BM25
	// Logger receives start-up and maintenance messages; nil discards them.
	Logger *slog.Logger
	// Vectors names the embedding model this process embeds with; the zero
	// value opens the store for keyword search only. A generation records
	// the model it was built with and refuses another.
	Vectors store.VectorSpace
	// Rebuild opens a data directory whose serving generation was built
	// with another analyzer or embedding model, as cari reindex must: its
	// documents can be read and rebuilt, but it takes no writes and no
	// vector searches until a new generation replaces it. Without Rebuild
	// Open refuses such a directory and says to reindex.
	Rebuild bool
	// EfSearch is the vector index's search candidate list length: lower
	// is faster at lower recall. On documents of many passages a search
	// for k documents starts with k times their average passages instead,
	// scaled by EfSearch/DefaultEfSearch, when that is longer. It is a
	// search setting only (the graph is built the same way whatever it
	// is). 0 means DefaultEfSearch; at most MaxEfSearch.
	EfSearch int
	// MustExist makes Open fail with ErrNoIndex, naming the path, when dir
	// does not exist or holds no index, instead of creating one: for the
	// commands that only read (stats, verify, search, eval), where a
	// missing directory is a mistyped path, not a new index.
	MustExist bool
	// ServeAddr is the gRPC address this process serves the directory on,
	// if it does. It is recorded in the directory's lock file, so that a
	// command refused with ErrLocked can say who holds the directory and
	// ask that server instead (dirlock.ServerOf).
	ServeAddr string
}

// VectorSpace is store.VectorSpace under the name the local store's callers
// and the vector index's tests used before it moved to the contract; new
// code names store.VectorSpace.
type VectorSpace = store.VectorSpace

// Store is the local store of one data directory. It is safe for concurrent
// use: searches run in parallel with each other and with one writer. One
// generation serves; while a reindex builds another (see Build), writes go to
// both, and the swap to the new one waits for no search.
type Store struct {
	dir  string
	opts Options
	lock *os.File
	// The analysis of this build, the same for every generation it opens
	// (a generation built with another is refused, or opened read-only
	// with Options.Rebuild).
	mapping  mapping.IndexMapping
	analyzer *store.Analysis

	mu       sync.Mutex // guards the fields below
	serving  *generation
	building *generation // receives every write while a reindex builds it
	buildJob bool        // a Build holds building
	closed   bool
	retired  sync.WaitGroup // swapped-out generations, closed once unused

	writeMu sync.Mutex // one batch at a time, so statistics updates don't race

	// compacting is set, under mu, while a compaction runs (compact.go);
	// compactions counts the background ones, which Close cancels through
	// compactCtx and waits for.
	compacting  bool
	compactions sync.WaitGroup
	compactCtx  context.Context
	stopCompact context.CancelFunc
}

// ErrClosed is returned by a Store's methods after Close.
var ErrClosed = errors.New("store is closed")

// Open opens the data directory dir, creating it and a first generation if it
// does not exist yet (unless Options.MustExist). A generation left half-built by a reindex is opened too,
// so that it keeps receiving writes until the job resumes or is discarded.
func Open(dir string, opts Options) (*Store, error) {
	var err error
	if opts.BM25, opts.IndonesianBM25, err = store.ResolveBM25(opts.BM25, opts.IndonesianBM25); err != nil {
		return nil, err
	}
	if err := CheckEfSearch(opts.EfSearch); err != nil {
		return nil, fmt.Errorf("vector search option EfSearch %w", err)
	}
	if opts.EfSearch == 0 {
		opts.EfSearch = DefaultEfSearch
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MustExist {
		if err := checkIndexExists(dir); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(filepath.Join(dir, generationsDir), 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	lock, err := dirlock.Lock(dir, dirlock.Self(opts.ServeAddr))
	if err != nil {
		return nil, err
	}
	m := newMapping()
	s := &Store{dir: dir, opts: opts, lock: lock, mapping: m}
	s.compactCtx, s.stopCompact = context.WithCancel(context.Background())
	if s.analyzer, err = store.AnalysisOf(m, bodyAnalyzer); err != nil {
		s.unlock()
		return nil, err
	}
	if err := s.openServing(); err != nil {
		s.unlock()
		return nil, err
	}
	s.attachBuilding()
	return s, nil
}

// openServing opens the generation CURRENT names, or creates the first one.
func (s *Store) openServing() error {
	name, err := readCurrent(s.dir)
	if err != nil {
		return err
	}
	if name == "" {
		name = newGenerationName(s.dir, time.Now())
		if err := createGeneration(s.dir, Manifest{Name: name, Vectors: s.opts.Vectors}); err != nil {
			return err
		}
		if err := writeCurrent(s.dir, name); err != nil {
			return fmt.Errorf("write serving alias: %w", err)
		}
	}
	g, err := openGeneration(s.dir, name, s.opts, openServe)
	if err != nil {
		return err
	}
	s.serving = g
	s.opts.Logger.Info("opened index generation", "generation", name, "dir", g.dir,
		"vectors", g.m.Vectors.String())
	if g.readOnly != "" {
		s.opts.Logger.Warn("the serving generation takes no writes until a reindex replaces it", "generation", name, "reason", g.readOnly)
	}
	return nil
}

// attachBuilding opens the newest generation a reindex left unfinished, so
// that writes reach it until a job resumes it. One that cannot be opened
// with this process's settings is left alone; the next reindex discards it.
func (s *Store) attachBuilding() {
	gens, err := listGenerations(s.dir)
	if err != nil {
		s.opts.Logger.Warn("cannot list index generations", "err", err)
		return
	}
	for i := len(gens) - 1; i >= 0; i-- {
		m := gens[i]
		if m.Complete() || m.Name == s.serving.m.Name {
			continue
		}
		g, err := openGeneration(s.dir, m.Name, s.opts, openBuild)
		if err != nil {
			s.opts.Logger.Warn("an unfinished reindex generation cannot be resumed with these settings; the next reindex discards it",
				"generation", m.Name, "err", err)
			return
		}
		s.building = g
		s.opts.Logger.Info("opened the generation an unfinished reindex was building; it receives writes until the reindex resumes",
			"generation", m.Name, "source", m.Source)
		return
	}
}

// createGeneration makes an empty generation directory. Its manifest is
// written last, so a directory without one is known to be incomplete.
func createGeneration(dataDir string, m Manifest) error {
	genDir := generationPath(dataDir, m.Name)
	if err := os.MkdirAll(genDir, 0o755); err != nil {
		return fmt.Errorf("create generation %s: %w", m.Name, err)
	}
	idx, err := bleve.New(filepath.Join(genDir, keywordDir), newMapping())
	if err != nil {
		return fmt.Errorf("create keyword index of generation %s: %w", m.Name, err)
	}
	if err := idx.Close(); err != nil {
		return fmt.Errorf("close new keyword index: %w", err)
	}
	m.Format, m.Created, m.Analyzer = formatVersion, time.Now().UTC(), bodyAnalyzer
	return writeManifest(genDir, m)
}

// Generation returns the manifest of the serving generation.
func (s *Store) Generation() Manifest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serving.m
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Close waits for operations in progress and pinned searches, then flushes
// and closes the generations and releases the directory. Later calls return
// ErrClosed.
func (s *Store) Close() error {
	// A compaction takes writeMu to finish: stop it first. stopCompact
	// runs under mu, where compactions are started, so none starts after.
	s.mu.Lock()
	s.stopCompact()
	s.mu.Unlock()
	s.compactions.Wait()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	serving, building := s.serving, s.building
	s.building = nil
	s.mu.Unlock()
	serving.refs.Wait()
	err := serving.close()
	if building != nil {
		err = errors.Join(err, building.close())
	}
	s.retired.Wait()
	s.unlock()
	return err
}

type pinKey struct{}

type pinned struct {
	s *Store
	g *generation
}

// Pin returns a context in which every call of this store reads the
// generation serving now, and a function that releases it. A search pins
// once so that its steps (keyword and vector retrieval, match features,
// loading documents) see one generation even when a reindex swaps in
// another meanwhile; the swapped-out generation is closed after its last
// pin is released.
func (s *Store) Pin(ctx context.Context) (context.Context, func(), error) {
	if p, ok := ctx.Value(pinKey{}).(*pinned); ok && p.s == s {
		return ctx, func() {}, nil
	}
	g, err := s.acquire()
	if err != nil {
		return ctx, nil, err
	}
	var once sync.Once
	return context.WithValue(ctx, pinKey{}, &pinned{s, g}), func() { once.Do(g.refs.Done) }, nil
}

// acquire returns the serving generation, which stays open until the
// caller calls its refs.Done.
func (s *Store) acquire() (*generation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	s.serving.refs.Add(1)
	return s.serving, nil
}

// snapshot returns a consistent view of the serving generation (or the one
// ctx pinned) and keeps it open until release is called; the caller must
// call it.
func (s *Store) snapshot(ctx context.Context) (r index.IndexReader, release func(), err error) {
	r, _, release, err = s.snapshotGen(ctx)
	return r, release, err
}

// snapshotGen is snapshot that also returns the generation read.
func (s *Store) snapshotGen(ctx context.Context) (index.IndexReader, *generation, func(), error) {
	if p, ok := ctx.Value(pinKey{}).(*pinned); ok && p.s == s {
		r, err := p.g.reader()
		if err != nil {
			return nil, nil, nil, err
		}
		return r, p.g, func() { r.Close() }, nil
	}
	g, err := s.acquire()
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := g.reader()
	if err != nil {
		g.refs.Done()
		return nil, nil, nil, err
	}
	return r, g, func() { r.Close(); g.refs.Done() }, nil
}

// Stats returns the serving generation's statistics.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	r, g, release, err := s.snapshotGen(ctx)
	if err != nil {
		return store.Stats{}, err
	}
	defer release()
	return g.stats(r)
}

func snapshotStats(r index.IndexReader) (corpusStats, error) {
	b, err := r.GetInternal(statsKey)
	if err != nil {
		return corpusStats{}, fmt.Errorf("read corpus statistics: %w", err)
	}
	return decodeStats(b)
}

func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		// bleve deletes merged segment files while we walk: a file that
		// vanished no longer counts.
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}
