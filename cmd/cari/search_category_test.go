package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSearchCategoryFlag: --category reaches the search as the categories
// filter (the sample corpus has no GitHub page, so a search for github finds
// nothing that a plain search finds), and a value that is not one of Exa's
// categories is refused naming the flag.
func TestSearchCategoryFlag(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	sample := filepath.Join("..", "..", "testdata", "corpus", "sample.jsonl")
	if out, err := runModelsCmd(t, "index", "--data", data, "--corpus", sample, "--embedder", "none"); err != nil {
		t.Fatalf("index: %v\n%s", err, out)
	}
	search := []string{"search", "--data", data, "--embedder", "none", "--reranker", "none", "--type", "keyword", "hybrid retrieval"}
	out, err := runModelsCmd(t, search...)
	if err != nil || !strings.Contains(out, "cari-2") {
		t.Fatalf("search: %v, %s; want cari-2", err, out)
	}
	out, err = runModelsCmd(t, append(search, "--category", "GitHub")...)
	if err != nil || strings.Contains(out, "cari-") {
		t.Errorf("search --category GitHub: %v, %s; want no results", err, out)
	}
	if out, err := runModelsCmd(t, append(search, "--category", "blog")...); err == nil || !strings.Contains(err.Error(), "--category") || !strings.Contains(err.Error(), `"blog"`) {
		t.Errorf("search --category blog: %v, want an error naming --category and the value\n%s", err, out)
	}
}
