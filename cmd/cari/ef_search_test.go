package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEfSearchFlag: --ef-search outside 1 to local.MaxEfSearch, or given
// for a Qdrant store, is refused with an error naming the flag, before any
// data directory is created; a valid value opens the store.
func TestEfSearchFlag(t *testing.T) {
	dir := t.TempDir()
	sample := filepath.Join("..", "..", "testdata", "corpus", "sample.jsonl")
	for _, args := range [][]string{
		{"--ef-search", "-1"},
		{"--ef-search", "10001"},
		{"--ef-search", "64", "--store", "qdrant", "--qdrant-addr", "127.0.0.1:1"},
	} {
		data := filepath.Join(dir, "refused")
		all := append([]string{"index", "--data", data, "--corpus", sample, "--embedder", "none"}, args...)
		out, err := runModelsCmd(t, all...)
		if err == nil || !strings.Contains(err.Error(), "--ef-search") {
			t.Errorf("cari %s: error %v, want one naming --ef-search\n%s", strings.Join(all, " "), err, out)
		}
		if _, err := os.Stat(data); err == nil {
			t.Errorf("cari %s left a data directory behind", strings.Join(all, " "))
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := runModelsCmd(t, "index", "--data", data, "--corpus", sample, "--embedder", "none", "--ef-search", "32"); err != nil {
		t.Fatalf("index --ef-search 32: %v\n%s", err, out)
	}
}
