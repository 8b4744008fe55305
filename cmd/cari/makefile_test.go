package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMakeRunImportsOnce: the README's `make run` imports the corpus on the
// first run, and a second run on the same data directory starts serving
// without importing it again, unless the corpus changed since. It reads
// what make would do (make -n), so nothing is built or fetched.
func TestMakeRunImportsOnce(t *testing.T) {
	dir := t.TempDir()
	data, corpus := filepath.Join(dir, "data"), filepath.Join(dir, "corpus.jsonl")
	writeFile(t, corpus, `{"id":"1","text":"x"}`+"\n")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	plan := func() string {
		t.Helper()
		out := makeIn(t, "-n", "run", "DATA="+data, "CORPUS="+corpus)
		if !strings.Contains(out, "cari serve --data "+data) {
			t.Fatalf("make -n run does not serve %s:\n%s", data, out)
		}
		return out
	}
	index := "cari index --data " + data + " --corpus " + corpus
	if out := plan(); !strings.Contains(out, index) {
		t.Errorf("first make run does not import the corpus:\n%s", out)
	}
	// What the first run's import leaves behind.
	writeFile(t, filepath.Join(data, ".imported"), "")
	if out := plan(); strings.Contains(out, "cari index") {
		t.Errorf("second make run imports again:\n%s", out)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(corpus, later, later); err != nil {
		t.Fatal(err)
	}
	if out := plan(); !strings.Contains(out, index) {
		t.Errorf("make run after the corpus changed does not import it again:\n%s", out)
	}
}

// TestMakeHunspellID: make run's hunspell-id step is silent where the
// Indonesian root words are installed, and beside an index built without
// them says how to install them and reindex instead of installing them
// (which would make the index refused until reindexed).
func TestMakeHunspellID(t *testing.T) {
	dir := t.TempDir()
	dic := filepath.Join(dir, "id_ID.dic")
	writeFile(t, dic, "1\nkata\n")
	if out := makeIn(t, "-s", "hunspell-id", "HUNSPELL_ID_DIC="+dic, "DATA="+dir); out != "" {
		t.Errorf("hunspell-id with the dictionary printed %q, want nothing", out)
	}
	writeFile(t, filepath.Join(dir, "CURRENT"), "g-1\n")
	out := makeIn(t, "-s", "hunspell-id", "HUNSPELL_ID_DIC="+filepath.Join(dir, "missing.dic"), "DATA="+dir)
	for _, want := range []string{"without stemming", "apt-get install hunspell-id", "cari reindex --data " + dir + " --stored"} {
		if !strings.Contains(out, want) {
			t.Errorf("hunspell-id beside an index, without the dictionary, printed %q; want %q in it", out, want)
		}
	}
}

// makeIn runs make in the repository root, skipping the test where there
// is no make.
func makeIn(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make:", err)
	}
	cmd := exec.Command("make", args...)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
