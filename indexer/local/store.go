// Package local is Cari's embedded store: one data directory holding, per
// index generation, a bleve index with the keyword postings and the stored
// documents. It needs nothing else running.
package local

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari/indexer"
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// BM25 parameters; zero means DefaultBM25.
	BM25 BM25
	// Logger receives start-up and maintenance messages; nil discards them.
	Logger *slog.Logger
	// Vectors names the embedding model this process embeds with; the zero
	// value opens the store for keyword search only. A generation records
	// the model it was built with and refuses another.
	Vectors VectorSpace
}

// VectorSpace identifies the vectors of an index: the model that made them
// (provider, name and a fingerprint of its weights, in one string) and their
// dimension. Vectors from different spaces are not comparable.
type VectorSpace struct {
	Model string `json:"model"`
	Dim   int    `json:"dim"`
}

// IsZero reports whether no embedding model is set.
func (v VectorSpace) IsZero() bool { return v.Model == "" }

func (v VectorSpace) String() string {
	if v.IsZero() {
		return "none (keyword only)"
	}
	return fmt.Sprintf("%s (%d dimensions)", v.Model, v.Dim)
}

// Store is the local store of one data directory. It is safe for concurrent
// use: searches run in parallel with each other and with one writer.
type Store struct {
	dir      string
	opts     Options
	lock     *os.File
	gen      Manifest
	idx      bleve.Index
	analyzer analysis.Analyzer
	vlog     *vectorLog  // nil for a keyword-only generation
	vecs     vectorIndex // nil unless this process embeds with the generation's model

	// openMu guards idx: every operation holds it for reading while it uses
	// the index, and Close takes it for writing, so Close waits for them
	// and later calls get ErrClosed instead of a nil index.
	openMu  sync.RWMutex
	writeMu sync.Mutex // one batch at a time, so statistics updates don't race
}

// ErrClosed is returned by a Store's methods after Close.
var ErrClosed = errors.New("store is closed")

// ErrLocked is returned by Open when another process has the directory open.
var ErrLocked = errors.New("data directory is in use by another cari process")

// Open opens the data directory dir, creating it and a first generation if it
// does not exist yet.
func Open(dir string, opts Options) (*Store, error) {
	if opts.BM25 == (BM25{}) {
		opts.BM25 = DefaultBM25
	}
	if err := opts.BM25.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Join(dir, generationsDir), 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: opts, lock: lock}
	if err := s.openServing(); err != nil {
		s.unlock()
		return nil, err
	}
	return s, nil
}

func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w (stop it, or use another --data)", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

func (s *Store) unlock() {
	if s.lock != nil {
		s.lock.Close() // closing releases the flock
		s.lock = nil
	}
}

// openServing opens the generation CURRENT names, or creates the first one.
func (s *Store) openServing() error {
	name, err := readCurrent(s.dir)
	if err != nil {
		return err
	}
	if name == "" {
		name = "gen-" + time.Now().UTC().Format("20060102t150405")
		if err := createGeneration(s.dir, name); err != nil {
			return err
		}
		if err := writeCurrent(s.dir, name); err != nil {
			return fmt.Errorf("write serving alias: %w", err)
		}
	}
	genDir := generationPath(s.dir, name)
	m, err := readManifest(genDir)
	if err != nil {
		return fmt.Errorf("open generation %s: %w", name, err)
	}
	if m.Analyzer != bodyAnalyzer {
		return fmt.Errorf("generation %s was built with analyzer %q, this build uses %q; reindex it",
			name, m.Analyzer, bodyAnalyzer)
	}
	idx, err := bleve.Open(filepath.Join(genDir, keywordDir))
	if err != nil {
		return fmt.Errorf("open keyword index of generation %s (%s): %w; if it is damaged, rebuild it with cari index",
			name, filepath.Join(genDir, keywordDir), err)
	}
	s.gen, s.idx = m, idx
	s.analyzer = idx.Mapping().AnalyzerNamed(bodyAnalyzer)
	if s.analyzer == nil {
		idx.Close()
		return fmt.Errorf("analyzer %q is not registered", bodyAnalyzer)
	}
	if err := s.openVectors(genDir); err != nil {
		idx.Close()
		return fmt.Errorf("open generation %s: %w", name, err)
	}
	s.opts.Logger.Info("opened index generation", "generation", name, "dir", genDir,
		"vectors", s.gen.Vectors.String())
	return nil
}

// openVectors reconciles the generation's embedding model with the one this
// process uses, and loads the committed vectors.
func (s *Store) openVectors(genDir string) error {
	want, have := s.opts.Vectors, s.gen.Vectors
	switch {
	case have.IsZero() && !want.IsZero():
		docs, err := s.idx.DocCount()
		if err != nil {
			return err
		}
		if docs > 0 {
			return fmt.Errorf("it holds %d documents indexed without vectors, and this process embeds with %s; reindex with that model (cari reindex), or run without an embedder", docs, want)
		}
		s.gen.Vectors = want
		if err := writeManifest(genDir, s.gen); err != nil {
			return fmt.Errorf("record embedding model: %w", err)
		}
	case !have.IsZero() && !want.IsZero() && have != want:
		return fmt.Errorf("it was embedded with %s, and this process is configured with %s; vectors of different models are not comparable: reindex with the new model (cari reindex) or configure the old one", have, want)
	}
	if s.gen.Vectors.IsZero() {
		return nil
	}
	committed, err := committedLogOffset(s.idx)
	if err != nil {
		return err
	}
	if want.IsZero() {
		s.vlog, err = openVectorLog(filepath.Join(genDir, vectorLogFile), committed, func(vectorRecord) error { return nil })
		return err
	}
	vlog, vecs, err := s.openANN(genDir, committed)
	if err != nil {
		return err
	}
	s.vlog, s.vecs = vlog, vecs
	return nil
}

func committedLogOffset(idx bleve.Index) (int64, error) {
	b, err := idx.GetInternal(vlogKey)
	if err != nil {
		return 0, fmt.Errorf("read vector log offset: %w", err)
	}
	if len(b) == 0 {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("vector log offset is %d bytes, want 8: the keyword index is damaged", len(b))
	}
	return int64(binary.LittleEndian.Uint64(b)), nil
}

// createGeneration makes an empty generation directory. Its manifest is
// written last, so a directory without one is known to be incomplete.
func createGeneration(dataDir, name string) error {
	genDir := generationPath(dataDir, name)
	if err := os.MkdirAll(genDir, 0o755); err != nil {
		return fmt.Errorf("create generation %s: %w", name, err)
	}
	idx, err := bleve.New(filepath.Join(genDir, keywordDir), newMapping())
	if err != nil {
		return fmt.Errorf("create keyword index of generation %s: %w", name, err)
	}
	if err := idx.Close(); err != nil {
		return fmt.Errorf("close new keyword index: %w", err)
	}
	return writeManifest(genDir, Manifest{
		Format:   formatVersion,
		Name:     name,
		Created:  time.Now().UTC(),
		Analyzer: bodyAnalyzer,
	})
}

// Generation returns the manifest of the serving generation.
func (s *Store) Generation() Manifest { return s.gen }

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Close waits for operations in progress, then flushes and closes the index
// and releases the directory. Later calls return ErrClosed.
func (s *Store) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.openMu.Lock()
	defer s.openMu.Unlock()
	var err error
	if s.vlog != nil {
		s.snapshotVectors(true)
		err = s.vlog.close()
		s.vlog, s.vecs = nil, nil
	}
	if s.idx != nil {
		err = errors.Join(err, s.idx.Close())
		s.idx = nil
	}
	s.unlock()
	return err
}

// snapshot returns a consistent view of the index and keeps the store open
// until release is called; the caller must call it.
func (s *Store) snapshot() (r index.IndexReader, release func(), err error) {
	s.openMu.RLock()
	if s.idx == nil {
		s.openMu.RUnlock()
		return nil, nil, ErrClosed
	}
	adv, err := s.idx.Advanced()
	if err == nil {
		r, err = adv.Reader()
	}
	if err != nil {
		s.openMu.RUnlock()
		return nil, nil, err
	}
	return r, func() { r.Close(); s.openMu.RUnlock() }, nil
}

// Stats returns the serving generation's statistics.
func (s *Store) Stats(ctx context.Context) (indexer.Stats, error) {
	r, release, err := s.snapshot()
	if err != nil {
		return indexer.Stats{}, err
	}
	defer release()
	cs, err := snapshotStats(r)
	if err != nil {
		return indexer.Stats{}, err
	}
	size, err := dirSize(generationPath(s.dir, s.gen.Name))
	if err != nil {
		return indexer.Stats{}, err
	}
	return indexer.Stats{
		Generation:   s.gen.Name,
		Documents:    cs.Docs,
		Chunks:       cs.Chunks,
		AvgDocTokens: cs.avgBodyLen(),
		DiskBytes:    size,
	}, nil
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
