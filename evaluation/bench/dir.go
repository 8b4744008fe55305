package bench

import (
	"fmt"
	"os"
	"path/filepath"
)

// Marker is the file that marks a data directory cari bench built, the
// only kind a rebuild may delete.
const Marker = "cari-bench"

// PrepareDir reports whether a run must build the index in dir: when dir
// holds none, or with rebuild, after deleting the one there, which must
// carry the Marker (a rebuild never deletes a directory it did not make).
// Building needs the corpus; PrepareDir creates dir and marks it.
func PrepareDir(dir, corpus string, rebuild bool) (bool, error) {
	entries, err := os.ReadDir(dir)
	exists := err == nil && len(entries) > 0
	if exists && rebuild {
		if _, err := os.Stat(filepath.Join(dir, Marker)); err != nil {
			return false, fmt.Errorf("--rebuild: %s was not built by cari bench (no %s file in it); delete it yourself or pick another --data", dir, Marker)
		}
		if err := os.RemoveAll(dir); err != nil {
			return false, fmt.Errorf("--rebuild: %w", err)
		}
		exists = false
	}
	if exists {
		return false, nil
	}
	if corpus == "" {
		return false, fmt.Errorf("--data %s holds no index: --corpus is required to build one", dir)
	}
	if _, err := os.Stat(corpus); err != nil {
		return false, fmt.Errorf("--corpus: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("--data: %w", err)
	}
	return true, os.WriteFile(filepath.Join(dir, Marker), []byte("built by cari bench; cari bench --rebuild may delete this directory\n"), 0o644)
}
