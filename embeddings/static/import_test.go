package static

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileLoads(t *testing.T) {
	tab, err := Build(testVectors(50, 8), BuildOptions{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "m.cvec")
	if err := WriteFile(path, tab); err != nil {
		t.Fatal(err)
	}
	if !IsModelFile(path) {
		t.Error("IsModelFile: false for a written model")
	}
	if m, err := Load(path); err != nil || m.Name() != "test" {
		t.Errorf("Load: %v, %v", m, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("%d files beside the model, want none (the temporary file is renamed)", len(entries)-1)
	}
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if IsModelFile(other) || IsModelFile(filepath.Join(dir, "missing")) {
		t.Error("IsModelFile: true for a file that is not a model")
	}
}
