package main

import (
	"testing"

	"github.com/cari-search/cari/searcher"
)

// TestEvalMode: each --mode of cari eval runs the retrieval it names, and
// "served" runs what a search with no type and no re-ranking setting gets.
func TestEvalMode(t *testing.T) {
	for _, tc := range []struct {
		mode   string
		typ    searcher.Type
		rerank bool
	}{
		{"keyword", searcher.TypeKeyword, false},
		{"vector", searcher.TypeNeural, false},
		{"hybrid", searcher.TypeHybrid, false},
		{"rerank", searcher.TypeHybrid, true},
		{"served", searcher.TypeAuto, true},
	} {
		typ, rerank, err := evalMode(tc.mode)
		if err != nil || typ != tc.typ || rerank != tc.rerank {
			t.Errorf("evalMode(%q) = %v, %t, %v; want %v, %t", tc.mode, typ, rerank, err, tc.typ, tc.rerank)
		}
	}
	for _, mode := range []string{"auto", "", "bm25"} {
		if _, _, err := evalMode(mode); err == nil {
			t.Errorf("evalMode(%q) accepted", mode)
		}
	}
}
