package collections

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/indexer/reindex"
	"github.com/cari-search/cari/store/catalog"
)

// openCreated creates the collection name with settings s in a new data
// directory, as cari collections create does, and opens it keyword-only;
// it is closed when the test ends.
func openCreated(t *testing.T, name string, s catalog.Settings) *Collection {
	t.Helper()
	dir := t.TempDir()
	cat, err := catalog.Open(dir, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.Create(name, s); err != nil {
		t.Fatal(err)
	}
	cat.Close()
	c, err := Open(t.Context(), keywordOnly(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestMaxDocuments: a collection's limits.max_documents refuses the write
// that would take it past the bound, whole, naming the collection and the
// bound, and leaves what is stored as it was; documents replaced count
// nothing; a changed limit applies to the next write.
func TestMaxDocuments(t *testing.T) {
	c := openCreated(t, "small", catalog.Settings{Embedder: "none", Limits: catalog.Limits{MaxDocuments: 3}})
	write := func(ids ...string) error {
		t.Helper()
		ix, err := indexer.New(c.Index, c.Indexing)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if err := ix.Add(t.Context(), cari.Document{ID: id, Text: "tide tables for the harbour, version " + id + strings.Repeat(" again", len(ids))}); err != nil {
				t.Fatal(err)
			}
		}
		return ix.Flush(t.Context())
	}
	held := func(want int64) {
		t.Helper()
		st, err := c.Index.Stats(t.Context())
		if err != nil || st.Documents != want {
			t.Fatalf("stats: %+v %v, want %d documents", st, err, want)
		}
	}
	if err := write("a", "b"); err != nil {
		t.Fatal(err)
	}
	err := write("c", "d")
	if !errors.Is(err, catalog.ErrLimit) || !strings.Contains(err.Error(), "collection small") || !strings.Contains(err.Error(), "at most 3") {
		t.Fatalf("two more into a collection holding 2 of 3: %v, want ErrLimit naming small and 3", err)
	}
	held(2)
	if docs, _ := c.Index.Documents(t.Context(), []string{"c", "d"}); len(docs) != 0 {
		t.Errorf("the refused batch left %v stored", docs)
	}
	// a and b are replaced (their text changed), c is new: one more.
	if err := write("a", "b", "c"); err != nil {
		t.Fatalf("replace two and add one up to the bound: %v", err)
	}
	held(3)
	if err := write("e"); !errors.Is(err, catalog.ErrLimit) {
		t.Fatalf("one past the bound: %v, want ErrLimit", err)
	}
	if _, err := c.Catalog.Update("small", func(s *catalog.Settings) error { s.Limits.MaxDocuments = 0; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := write("e"); err != nil {
		t.Fatalf("after the limit is lifted: %v", err)
	}
	held(4)
}

// TestCollectionLanguage: a collection's language is given to the
// documents written to it that name none, whichever path writes them (the
// indexer options the collection opens with), and one a document names is
// kept.
func TestCollectionLanguage(t *testing.T) {
	c := openCreated(t, "id-docs", catalog.Settings{Embedder: "none", Language: "id"})
	ix, err := indexer.New(c.Index, c.Indexing)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []cari.Document{
		{ID: "plain", Text: "The weather in the harbour is calm and the tide is low this morning."},
		{ID: "named", Text: "The weather in the harbour is calm and the tide is low this morning.", Language: "en"},
	} {
		if err := ix.Add(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	docs, err := c.Index.Documents(t.Context(), []string{"plain", "named"})
	if err != nil || docs["plain"].Language != "id" || docs["named"].Language != "en" {
		t.Errorf("stored languages: plain %q, named %q (%v); want id from the collection, en its own", docs["plain"].Language, docs["named"].Language, err)
	}
}

// TestServedCollectionListsItsDocuments: the store a server gets for a
// collection (Served().Store, wrapped for the collection's limits) can
// still list its documents, which GetStats' example queries read; the
// limits wrapper hid it, so the search page offered no examples (caught by
// the browser test).
func TestServedCollectionListsItsDocuments(t *testing.T) {
	c := openCreated(t, "listed", catalog.Settings{Embedder: "none", Limits: catalog.Limits{MaxDocuments: 10}})
	ix, err := indexer.New(c.Index, c.Indexing)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"b", "a"} {
		if err := ix.Add(t.Context(), cari.Document{ID: id, Title: "Harbour " + id, Text: "tide tables for the harbour " + id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	stored, ok := c.Served().Store.(reindex.Stored)
	if !ok {
		t.Fatalf("the served store %T cannot list its documents", c.Served().Store)
	}
	ids, err := stored.DocumentIDs(t.Context())
	if slices.Sort(ids); err != nil || !slices.Equal(ids, []string{"a", "b"}) {
		t.Errorf("DocumentIDs = %v, %v; want [a b]", ids, err)
	}
}
