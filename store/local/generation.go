package local

import (
	"cmp"
	"encoding/binary"
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

	"github.com/blevesearch/bleve/v2"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari/internal/atomicfile"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local/hnsw"
)

// A data directory holds named index generations and an alias naming the one
// that serves searches:
//
//	DATA/LOCK                         held by the process that has DATA open
//	DATA/CURRENT                      the serving generation's name
//	DATA/generations/NAME/manifest.json
//	DATA/generations/NAME/keyword.bleve/
//
// A reindex builds a new generation beside the serving one (its manifest
// says state "building" until it is complete) and then replaces CURRENT
// atomically (write a temporary file, fsync, rename), so a reader never sees
// a half-built generation. The generation it replaced stays on disk, closed,
// for a rollback until garbage collection removes it.
const (
	currentFile    = "CURRENT"
	generationsDir = "generations"
	manifestFile   = "manifest.json"
	keywordDir     = "keyword.bleve"
	formatVersion  = 1
)

var generationName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Manifest describes one generation: how it was built, so that a process
// opening it can refuse settings that would make its answers wrong.
type Manifest struct {
	Format   int       `json:"format"`
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	Analyzer string    `json:"analyzer"`
	// Vectors is the embedding model the generation's vectors come from;
	// zero for a keyword-only generation.
	Vectors store.VectorSpace `json:"vectors,omitzero"`
	// State is StateBuilding while a reindex writes the generation, and
	// empty once it is complete. Only a complete generation can serve.
	State string `json:"state,omitempty"`
	// Source names what a reindex builds the generation from (for example
	// "corpus:/data/corpus.jsonl.gz"), so that a restarted job resumes only
	// the same build.
	Source string `json:"source,omitempty"`
	// Documents and Chunks are the generation's size when it last stopped
	// serving (a swap or rollback replaced it); zero before.
	Documents int64 `json:"documents,omitempty"`
	Chunks    int64 `json:"chunks,omitempty"`
}

// StateBuilding marks a generation a reindex is still writing.
const StateBuilding = "building"

// Complete reports whether the generation was finished and may serve.
func (m Manifest) Complete() bool { return m.State == "" }

// newGenerationName returns a name for a new generation, ordered by
// creation time, that no directory under dataDir has yet.
func newGenerationName(dataDir string, now time.Time) string {
	base := "gen-" + now.UTC().Format("20060102t150405.000")
	name := base
	for i := 2; ; i++ {
		if _, err := os.Stat(generationPath(dataDir, name)); errors.Is(err, os.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}

func generationPath(dataDir, name string) string {
	return filepath.Join(dataDir, generationsDir, name)
}

// readCurrent returns the serving generation's name, or "" if the data
// directory has none yet.
func readCurrent(dataDir string) (string, error) {
	path := filepath.Join(dataDir, currentFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read serving alias: %w", err)
	}
	name := strings.TrimSpace(string(b))
	if !generationName.MatchString(name) {
		return "", fmt.Errorf("%s is damaged: %q is not a generation name; point it at a directory under %s or rebuild with cari index",
			path, name, filepath.Join(dataDir, generationsDir))
	}
	return name, nil
}

// writeCurrent points the serving alias at name, atomically and durably.
func writeCurrent(dataDir, name string) error {
	return writeFileAtomic(filepath.Join(dataDir, currentFile), []byte(name+"\n"))
}

func readManifest(genDir string) (Manifest, error) {
	path := filepath.Join(genDir, manifestFile)
	var m Manifest
	b, err := os.ReadFile(path)
	if err != nil {
		return m, fmt.Errorf("read generation manifest: %w; if CURRENT names the wrong generation, run cari repair", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s is damaged (%v); rebuild the index with cari index", path, err)
	}
	if m.Format != formatVersion {
		return m, fmt.Errorf("%s has format %d, this build reads format %d; rebuild the index with cari index",
			path, m.Format, formatVersion)
	}
	return m, nil
}

func writeManifest(genDir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(genDir, manifestFile), append(b, '\n'))
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old or the new content, never a mix.
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// generation is one open index generation: its keyword index (postings,
// stored documents, statistics) and its vectors.
type generation struct {
	m    Manifest
	dir  string
	log  *slog.Logger
	idx  bleve.Index
	vlog *vectorLog // nil for a keyword-only or read-only generation
	// logName is the vector log's file name (see logFileName).
	logName string
	vecs    vectorIndex // nil unless this process searches its vectors
	hnsw    hnsw.Params // the vector index's, with the store's EfSearch
	// readOnly, when set, says why the generation takes no writes: it was
	// built with another analyzer or model and is open only to be rebuilt.
	readOnly string
	refs     sync.WaitGroup // open snapshots and pins
	// impacts bound the BM25 scores of the keyword segments' blocks of
	// postings (impacts.go).
	impacts *impactIndex
	// categories says whether the generation's mapping has the category
	// field: one made before categories were stored has not, and then
	// categorize decides them on read and the category filter is refused
	// (store.ErrNoCategories) until a reindex.
	categories bool
}

// openMode says what a generation is opened for.
type openMode int

const (
	// openServe: it answers searches; its vector index is loaded.
	openServe openMode = iota
	// openBuild: a reindex writes it; vectors go to the log only, and the
	// vector index is built from the log when the build finishes.
	openBuild
)

// openGeneration opens the generation name of dataDir, checking that its
// analyzer and embedding model are the ones this process uses.
func openGeneration(dataDir, name string, opts Options, mode openMode) (*generation, error) {
	genDir := generationPath(dataDir, name)
	m, err := readManifest(genDir)
	if err != nil {
		return nil, fmt.Errorf("open generation %s: %w", name, err)
	}
	if mode == openServe && !m.Complete() {
		return nil, fmt.Errorf("generation %s is incomplete (a reindex was building it from %s) and cannot serve", name, m.Source)
	}
	g := &generation{m: m, dir: genDir, log: opts.Logger, hnsw: hnsw.DefaultParams()}
	if opts.EfSearch > 0 {
		g.hnsw.EfSearch = opts.EfSearch
	}
	if m.Analyzer != bodyAnalyzer {
		reason := fmt.Sprintf("generation %s was built with analyzer %q, this build uses %q (%s); reindex it (cari reindex --stored)",
			name, m.Analyzer, bodyAnalyzer, analyzerChange(m.Analyzer, bodyAnalyzer))
		if !opts.Rebuild || mode != openServe {
			return nil, errors.New(reason)
		}
		g.readOnly = reason
	}
	g.idx, err = openKeywordIndex(filepath.Join(genDir, keywordDir))
	if err != nil {
		return nil, fmt.Errorf("open keyword index of generation %s (%s): %w; if it is damaged, rebuild it with cari index",
			name, filepath.Join(genDir, keywordDir), err)
	}
	g.categories = g.idx.Mapping().FieldMappingForPath(fieldCategory).Type != ""
	if err := g.openVectors(opts, mode); err != nil {
		g.idx.Close()
		return nil, fmt.Errorf("open generation %s: %w", name, err)
	}
	g.impacts = startImpacts(genDir, g.reader, g.log)
	return g, nil
}

// openVectors reconciles the generation's embedding model with the one this
// process uses, and loads the committed vectors.
func (g *generation) openVectors(opts Options, mode openMode) error {
	want, have := opts.Vectors, g.m.Vectors
	var mismatch string
	switch {
	case have.IsZero() && !want.IsZero():
		docs, err := g.idx.DocCount()
		if err != nil {
			return err
		}
		if docs == 0 {
			g.m.Vectors = want
			if err := writeManifest(g.dir, g.m); err != nil {
				return fmt.Errorf("record embedding model: %w", err)
			}
			break
		}
		mismatch = fmt.Sprintf("it holds %d documents indexed without vectors, and this process embeds with %s; reindex with that model (cari reindex --stored), or run without an embedder", docs, want)
	case !have.IsZero() && !want.IsZero() && have != want:
		mismatch = fmt.Sprintf("it was embedded with %s, and this process is configured with %s; vectors of different models are not comparable: reindex with the new model (cari reindex --stored) or configure the old one", have, want)
	}
	if mismatch != "" {
		if !opts.Rebuild || mode != openServe {
			return errors.New(mismatch)
		}
		g.readOnly = mismatch
	}
	if g.readOnly != "" || g.m.Vectors.IsZero() {
		return nil
	}
	committed, err := committedLogOffset(g.idx)
	if err != nil {
		return err
	}
	if g.logName, err = logFileName(g.idx); err != nil {
		return err
	}
	removeStaleLogs(g.dir, g.logName)
	if want.IsZero() || mode == openBuild {
		g.vlog, err = openVectorLog(filepath.Join(g.dir, g.logName), committed, func(vectorRecord) error { return nil })
		return err
	}
	vlog, vecs, err := g.openANN(committed)
	if err != nil {
		return err
	}
	g.vlog, g.vecs = vlog, vecs
	return nil
}

// internalReader reads an index's internal keys: a bleve.Index or one of
// its snapshots.
type internalReader interface {
	GetInternal(key []byte) ([]byte, error)
}

func committedLogOffset(idx internalReader) (int64, error) {
	return internalOffset(idx, vlogKey, "vector log offset")
}

// internalOffset reads the offset the store keeps under key (8 bytes,
// little-endian; 0 when absent). what names it in errors.
func internalOffset(idx internalReader, key []byte, what string) (int64, error) {
	b, err := idx.GetInternal(key)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", what, err)
	}
	if len(b) == 0 {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("%s is %d bytes, want 8: the keyword index is damaged", what, len(b))
	}
	return int64(binary.LittleEndian.Uint64(b)), nil
}

// reader returns a consistent snapshot of the keyword index.
func (g *generation) reader() (index.IndexReader, error) {
	adv, err := g.idx.Advanced()
	if err != nil {
		return nil, err
	}
	return adv.Reader()
}

// stats describes the generation as of snapshot r.
func (g *generation) stats(r index.IndexReader) (store.Stats, error) {
	cs, err := snapshotStats(r)
	if err != nil {
		return store.Stats{}, err
	}
	size, err := dirSize(g.dir)
	if err != nil {
		return store.Stats{}, err
	}
	return store.Stats{
		Generation:   g.m.Name,
		Documents:    cs.Docs,
		Chunks:       cs.Chunks,
		AvgDocTokens: cs.avgBodyLen(),
		DiskBytes:    size,
		LastWrite:    cs.LastWrite,
	}, nil
}

// close saves the vector index snapshot and closes the files. The caller
// makes sure nothing uses the generation any more.
func (g *generation) close() error {
	var err error
	if g.impacts != nil {
		g.impacts.close()
	}
	if g.vlog != nil {
		g.snapshotVectors(true)
		err = g.vlog.close()
		g.vlog, g.vecs = nil, nil
	}
	if g.idx != nil {
		cerr := g.idx.Close()
		g.idx = nil
		if cerr == nil {
			// Only after bleve closed cleanly: the record lets the next
			// open skip reading every segment (shutdown.go).
			if rerr := recordCleanShutdown(filepath.Join(g.dir, keywordDir)); rerr != nil {
				g.log.Warn("could not record the clean shutdown; the next start checks every keyword segment", "generation", g.m.Name, "err", rerr)
			}
		}
		err = errors.Join(err, cerr)
	}
	return err
}

// listGenerations returns the manifests of the data directory's
// generations, oldest first. Directories without a readable manifest are
// left out: createGeneration writes the manifest last.
func listGenerations(dataDir string) ([]Manifest, error) {
	entries, err := os.ReadDir(filepath.Join(dataDir, generationsDir))
	if err != nil {
		return nil, fmt.Errorf("list generations: %w", err)
	}
	var out []Manifest
	for _, e := range entries {
		if !e.IsDir() || !generationName.MatchString(e.Name()) {
			continue
		}
		m, err := readManifest(generationPath(dataDir, e.Name()))
		if err != nil {
			continue
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Manifest) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// analyzerChange names the parts in which two analyzer records differ (a
// record lists its parts between commas and parentheses), so that a refusal
// says what changed rather than leave two long names to compare.
func analyzerChange(built, now string) string {
	parts := func(s string) []string {
		var out []string
		for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '(' || r == ')' }) {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	was, is := parts(built), parts(now)
	var diff []string
	for _, p := range was {
		if !slices.Contains(is, p) {
			diff = append(diff, fmt.Sprintf("built with %q", p))
		}
	}
	for _, p := range is {
		if !slices.Contains(was, p) {
			diff = append(diff, fmt.Sprintf("now %q", p))
		}
	}
	if len(diff) == 0 {
		return "the parts are the same, in another order"
	}
	return strings.Join(diff, ", ")
}
