package local

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis/category"
	"github.com/cari-search/cari/store"
)

// A generation made before categories were stored reports each document's
// category decided on read, refuses the category filter (it would find
// nothing) instead of answering it wrongly, and a rebuild from its stored
// documents (what cari reindex --stored does) filters exactly.
func TestGenerationBeforeCategories(t *testing.T) {
	ctx := context.Background()
	storeCategories = false
	s := newStore(t, Options{})
	storeCategories = true

	repo := cari.Document{ID: "repo", URL: "https://github.com/cari-search/cari", Title: "cari", Text: "A search engine in Go."}
	plain := cari.Document{ID: "plain", URL: "https://example.org/notes", Title: "Notes", Text: "A search engine in Go, notes."}
	for _, d := range []*cari.Document{&repo, &plain} {
		if err := d.Normalize(); err != nil {
			t.Fatal(err)
		}
		d.Category = category.Of(*d) // as the indexer sets it
	}
	if repo.Category != category.GitHub || plain.Category != "" {
		t.Fatalf("categories %q and %q, want github and none", repo.Category, plain.Category)
	}
	if err := s.Upsert(ctx, entries(repo, plain)); err != nil {
		t.Fatal(err)
	}

	docs, err := s.Documents(ctx, []string{"repo", "plain"})
	if err != nil {
		t.Fatal(err)
	}
	if docs["repo"].Category != category.GitHub || docs["plain"].Category != "" {
		t.Errorf("read from the old generation: %q and %q, want github and none", docs["repo"].Category, docs["plain"].Category)
	}
	f := store.Filter{Categories: []string{category.GitHub}}
	if _, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: "search engine", Filter: f, Limit: 10}); !errors.Is(err, store.ErrNoCategories) {
		t.Errorf("keyword search by category on the old generation: %v, want ErrNoCategories", err)
	}
	if hits, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: "search engine", Limit: 10}); err != nil || len(hits) != 2 {
		t.Errorf("unfiltered search on the old generation: %v, %v", hits, err)
	}

	b := mustBegin(t, s, "stored:old")
	var rebuilt []cari.Document
	for _, id := range []string{"plain", "repo"} {
		d := docs[id]
		d.Chunks = nil
		rebuilt = append(rebuilt, d)
	}
	mustCommit(t, b, 2, entries(rebuilt...)...)
	if err := b.Swap(ctx); err != nil {
		t.Fatal(err)
	}
	hits, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: "search engine", Filter: f, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hits {
		got = append(got, h.ID)
	}
	if !slices.Equal(got, []string{"repo"}) {
		t.Errorf("rebuilt generation filtered by github: %v, want [repo]", got)
	}
}
