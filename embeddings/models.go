package embeddings

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/cari-search/cari/embeddings/static"
)

// ModelEntry is one model found in a models directory.
type ModelEntry struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	Format   string `json:"format"`
	Path     string `json:"path"`
	Bytes    int64  `json:"bytes"`
}

// ListModels finds static model files, Model2Vec directories, ONNX model
// directories and the ONNX Runtime library in dir; none when dir does not
// exist.
func ListModels(dir string) ([]ModelEntry, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []ModelEntry
	for _, de := range des {
		path := filepath.Join(dir, de.Name())
		e := ModelEntry{Name: de.Name(), Path: path, Bytes: sizeOf(path)}
		switch {
		case !de.IsDir() && static.IsModelFile(path):
			e.Provider, e.Format = ProviderStatic, "cari static vectors"
		case de.IsDir() && fileExists(filepath.Join(path, "model.safetensors")) && fileExists(filepath.Join(path, "tokenizer.json")):
			e.Provider, e.Format = ProviderStatic, "Model2Vec"
		case de.IsDir() && (fileExists(filepath.Join(path, "model.onnx")) || fileExists(filepath.Join(path, "onnx", "model.onnx"))):
			e.Provider, e.Format = ProviderONNX, "ONNX"
		case de.IsDir() && de.Name() == "onnxruntime":
			e.Provider, e.Format = "-", "ONNX Runtime library"
		default:
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// sizeOf is the size of a file or the total of a directory's files.
func sizeOf(path string) int64 {
	var total int64
	filepath.WalkDir(path, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return total
}
