package qdrant_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/qdrant"
)

// TestLargeDocuments: documents at Cari's text limit come back whole, one
// or several in a response, beyond gRPC's default 4 MiB receive limit.
func TestLargeDocuments(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: analyses 8 MiB of text")
	}
	s, _ := openDouble(t, qdrant.Options{})
	text := strings.Repeat("zebra ", cari.MaxTextBytes/6)
	ctx := context.Background()
	var entries []store.Entry
	for _, id := range []string{"a", "b"} {
		entries = append(entries, store.Entry{Doc: cari.Document{ID: id, Text: text, Language: "en"},
			Chunks: []cari.Chunk{{End: len(text)}}})
	}
	if err := s.Upsert(ctx, entries); err != nil {
		t.Fatal(err)
	}
	for _, ids := range [][]string{{"a"}, {"a", "b"}} {
		docs, err := s.Documents(ctx, ids)
		if err != nil {
			t.Fatalf("Documents(%v): %v", ids, err)
		}
		for _, id := range ids {
			if docs[id].Text != text {
				t.Errorf("Documents(%v): %s has %d bytes of text, want %d", ids, id, len(docs[id].Text), len(text))
			}
		}
	}
	matched, err := s.MatchDocuments(ctx, "zebra", []string{"a", "b"})
	if err != nil || len(matched) != 2 || matched["b"].Document.Text != text || matched["b"].Match.BM25 <= 0 {
		t.Errorf("MatchDocuments: %d documents, %v", len(matched), err)
	}
}
