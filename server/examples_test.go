package server

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer/reindex"
)

func TestExampleQuery(t *testing.T) {
	for _, c := range []struct {
		doc  cari.Document
		want string
	}{
		{cari.Document{Title: "Black holes"}, "Black holes"},
		{cari.Document{Title: "  “Merapi erupts again.”  "}, "Merapi erupts again"},
		// Cut to eight words and 60 characters.
		{cari.Document{Title: "Microstructural development of human newborn cerebral white matter of the brain assessed in vivo"},
			"Microstructural development of human newborn cerebral white"},
		// Without the dangling "of a new".
		{cari.Document{Title: "The effect of the amount of a new drug on the outcome"}, "The effect of the amount"},
		// No title: the text's first sentence.
		{cari.Document{Text: "Jazz grew out of blues. Brass bands shaped swing."}, "Jazz grew out of blues"},
		// Text without spaces is cut by characters.
		{cari.Document{Title: strings.Repeat("火山", 40)}, strings.Repeat("火山", 30)},
		{cari.Document{Title: "ok", Text: "Long enough text."}, ""},
		{cari.Document{Text: "   "}, ""},
	} {
		if got := exampleQuery(c.doc); got != c.want {
			t.Errorf("exampleQuery(%q, %q) = %q, want %q", c.doc.Title, c.doc.Text, got, c.want)
		}
	}
}

func TestExampleIDsDependOnGenerationOnly(t *testing.T) {
	ids := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	rev := slices.Clone(ids)
	slices.Reverse(rev)
	first := exampleIDs("g-1", ids, 3)
	if len(first) != 3 || !slices.Equal(first, exampleIDs("g-1", rev, 3)) {
		t.Errorf("exampleIDs(g-1) = %v, and %v for the IDs reversed; want 3, the same", first, exampleIDs("g-1", rev, 3))
	}
	differs := false
	for _, g := range []string{"g-2", "g-3", "g-4"} {
		differs = differs || !slices.Equal(first, exampleIDs(g, ids, 3))
	}
	if !differs {
		t.Errorf("every generation picks %v; want the choice to change with the generation", first)
	}
	if got := exampleIDs("g-1", ids[:2], 3); len(got) != 2 {
		t.Errorf("3 of 2 IDs: %v", got)
	}
}

// storedDocs is a store's documents for exampleQueries; list, when set,
// is waited on before listing.
type storedDocs struct {
	mu    sync.Mutex
	docs  map[string]cari.Document
	list  chan struct{}
	lists int
}

var _ reindex.Stored = (*storedDocs)(nil)

func (s *storedDocs) DocumentIDs(context.Context) ([]string, error) {
	if s.list != nil {
		<-s.list
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	var ids []string
	for id := range s.docs {
		ids = append(ids, id)
	}
	return ids, nil
}

func (s *storedDocs) Documents(_ context.Context, ids []string) (map[string]cari.Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]cari.Document{}
	for _, id := range ids {
		if d, ok := s.docs[id]; ok {
			out[id] = d
		}
	}
	return out, nil
}

func (s *storedDocs) add(d cari.Document) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[d.ID] = d
}

func TestExampleQueriesPerGeneration(t *testing.T) {
	s := &storedDocs{docs: map[string]cari.Document{"1": {ID: "1", Title: "Merapi erupts again"}}}
	e := &exampleQueries{stored: s, log: slog.New(slog.DiscardHandler), budget: time.Minute}
	ctx := t.Context()
	if got := e.get(ctx, "", 0); got != nil {
		t.Errorf("an empty index offers %q", got)
	}
	if got := e.get(ctx, "g-1", 1); !slices.Equal(got, []string{"Merapi erupts again"}) {
		t.Errorf("g-1 with one document offers %q", got)
	}
	// A document more: the short list is chosen again.
	s.add(cari.Document{ID: "2", Title: "The birth of jazz"})
	if got := e.get(ctx, "g-1", 2); len(got) != 2 {
		t.Errorf("g-1 with two documents offers %q, want both titles", got)
	}
	// A full list stays as it is for the generation, whatever changes.
	for i := range 10 {
		s.add(cari.Document{ID: string(rune('a' + i)), Title: "Document " + string(rune('A'+i))})
	}
	full := e.get(ctx, "g-1", 12)
	lists := s.lists
	if again := e.get(ctx, "g-1", 13); len(full) != numExampleQueries || !slices.Equal(full, again) || s.lists != lists {
		t.Errorf("g-1 offers %q, then %q after listing again %d times; want %d, the same, no listing", full, again, s.lists-lists, numExampleQueries)
	}
	if next := e.get(ctx, "g-2", 13); len(next) != numExampleQueries || s.lists != lists+1 {
		t.Errorf("a new generation offers %q after %d listings; want %d, chosen once", next, s.lists-lists, numExampleQueries)
	}
}

// A store slow to list its documents does not hold GetStats past the
// budget; a later call gets the choice.
func TestExampleQueriesWithinBudget(t *testing.T) {
	s := &storedDocs{docs: map[string]cari.Document{"1": {ID: "1", Title: "Black holes"}}, list: make(chan struct{})}
	e := &exampleQueries{stored: s, log: slog.New(slog.DiscardHandler), budget: time.Millisecond}
	if got := e.get(t.Context(), "g-1", 1); got != nil {
		t.Errorf("while listing: %q, want none", got)
	}
	close(s.list)
	e.budget = time.Minute
	if got := e.get(t.Context(), "g-1", 1); !slices.Equal(got, []string{"Black holes"}) {
		t.Errorf("after listing: %q", got)
	}
}
