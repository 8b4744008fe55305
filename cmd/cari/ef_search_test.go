package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEfSearchFlag: --ef-search (a search setting: eval, serve, bench
// and train-reranker take it, index does not) outside 1 to
// local.MaxEfSearch, or given for a Qdrant store, is refused with an error
// naming the flag, before any data directory is created; a valid value
// opens the store.
func TestEfSearchFlag(t *testing.T) {
	dir := t.TempDir()
	sample := filepath.Join("..", "..", "testdata", "corpus", "sample.jsonl")
	data := filepath.Join(dir, "data")
	if out, err := runModelsCmd(t, "index", "--data", data, "--corpus", sample, "--embedder", "none"); err != nil {
		t.Fatalf("index: %v\n%s", err, out)
	}
	eval := []string{"eval", "--embedder", "none", "--reranker", "none", "--queries", fixture("queries.jsonl"), "--qrels", fixture("qrels.tsv")}
	for _, args := range [][]string{
		{"--ef-search", "-1"},
		{"--ef-search", "10001"},
		{"--ef-search", "64", "--store", "qdrant", "--qdrant-addr", "127.0.0.1:1"},
	} {
		refused := filepath.Join(dir, "refused")
		all := append(slices.Concat(eval, []string{"--data", refused}), args...)
		out, err := runModelsCmd(t, all...)
		if err == nil || !strings.Contains(err.Error(), "--ef-search") {
			t.Errorf("cari %s: error %v, want one naming --ef-search\n%s", strings.Join(all, " "), err, out)
		}
		if _, err := os.Stat(refused); err == nil {
			t.Errorf("cari %s left a data directory behind", strings.Join(all, " "))
		}
	}
	if out, err := runModelsCmd(t, slices.Concat(eval, []string{"--data", data, "--ef-search", "32"})...); err != nil {
		t.Fatalf("eval --ef-search 32: %v\n%s", err, out)
	}
}
