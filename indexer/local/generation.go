package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// A data directory holds named index generations and an alias naming the one
// that serves searches:
//
//	DATA/LOCK                         held by the process that has DATA open
//	DATA/CURRENT                      the serving generation's name
//	DATA/generations/NAME/manifest.json
//	DATA/generations/NAME/keyword.bleve/
//
// A reindex builds a new generation beside the serving one and then replaces
// CURRENT atomically (write a temporary file, fsync, rename), so a reader
// never sees a half-built generation.
const (
	currentFile    = "CURRENT"
	lockFile       = "LOCK"
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
	Vectors VectorSpace `json:"vectors,omitzero"`
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
		return m, fmt.Errorf("read generation manifest: %w", err)
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
	return writeFileAtomicFunc(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
