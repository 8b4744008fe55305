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

// TestMaxQueryCharsFlag: --max-query-chars reaches the searcher (eval
// scores the queries longer than it 0 and names them, instead of ending
// the run), and a value under 1 is refused naming the flag.
func TestMaxQueryCharsFlag(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	sample := filepath.Join("..", "..", "testdata", "corpus", "sample.jsonl")
	if out, err := runModelsCmd(t, "index", "--data", data, "--corpus", sample, "--embedder", "none"); err != nil {
		t.Fatalf("index: %v\n%s", err, out)
	}
	eval := []string{"eval", "--data", data, "--embedder", "none", "--reranker", "none", "--mode", "keyword",
		"--queries", fixture("queries.jsonl"), "--qrels", fixture("qrels.tsv")}
	out, err := runModelsCmd(t, eval...)
	if err != nil || strings.Contains(out, "refused") {
		t.Fatalf("eval at the default limit: %v, %q; want every query searched", err, out)
	}
	// q1 ("how do plants turn sunlight into energy") has 39 characters,
	// q3 ("marathon training long run") 27.
	out, err = runModelsCmd(t, slices.Concat(eval, []string{"--max-query-chars", "30"})...)
	if err != nil || !strings.Contains(out, "refused=") || !strings.Contains(out, "q1") || strings.Contains(out, " q3") {
		t.Errorf("eval --max-query-chars 30: %v, %q; want q1 refused and q3 searched", err, out)
	}
	if out, err := runModelsCmd(t, slices.Concat(eval, []string{"--max-query-chars", "0"})...); err == nil || !strings.Contains(err.Error(), "--max-query-chars") {
		t.Errorf("eval --max-query-chars 0: %v, want an error naming the flag\n%s", err, out)
	}
}
