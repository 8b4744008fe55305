package embeddings

import (
	"os"
	"path/filepath"
	"testing"
)

func TestListModels(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("m2v/model.safetensors", "x")
	write("m2v/tokenizer.json", "{}")
	write("bge/onnx/model.onnx", "xx")
	write("onnxruntime/lib.so", "x")
	write("notes.txt", "not a model")
	got, err := ListModels(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"m2v": "Model2Vec", "bge": "ONNX", "onnxruntime": "ONNX Runtime library"}
	if len(got) != len(want) {
		t.Fatalf("listed %+v, want %v", got, want)
	}
	for _, e := range got {
		if want[e.Name] != e.Format {
			t.Errorf("%s: format %q, want %q", e.Name, e.Format, want[e.Name])
		}
	}
	if missing, err := ListModels(filepath.Join(dir, "none")); missing != nil || err != nil {
		t.Errorf("a missing directory: %v, %v; want none", missing, err)
	}
}
