package indexer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// recordingWriter is a Writer that keeps a copy of every batch, and fails
// while err is set.
type recordingWriter struct {
	batches [][]cari.Document
	err     error
}

func (w *recordingWriter) Upsert(_ context.Context, entries []store.Entry) error {
	if w.err != nil {
		return w.err
	}
	docs := make([]cari.Document, len(entries))
	for i, e := range entries {
		docs[i] = e.Doc
	}
	w.batches = append(w.batches, docs)
	return nil
}

// newIndexer is New for tests, failing the test on error.
func newIndexer(t *testing.T, w Writer, opts Options) *Indexer {
	t.Helper()
	ix, err := New(w, opts)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func (w *recordingWriter) sizes() []int {
	var n []int
	for _, b := range w.batches {
		n = append(n, len(b))
	}
	return n
}

func (w *recordingWriter) ids() []string {
	var ids []string
	for _, b := range w.batches {
		for _, d := range b {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

func numbered(i int) cari.Document {
	return cari.Document{ID: fmt.Sprintf("doc%d", i), Text: "text"}
}

func TestIndexerBatches(t *testing.T) {
	tests := []struct {
		name        string
		batchSize   int
		add         int
		beforeFlush []int // batch sizes written by Add alone
	}{
		{"partial batch waits for Flush", 3, 2, nil},
		{"full batches written by Add", 3, 7, []int{3, 3}},
		{"exact multiple", 2, 4, []int{2, 2}},
		{"batch of one", 1, 3, []int{1, 1, 1}},
		{"default batch size", 0, 513, []int{512}},
		{"negative batch size means default", -5, 511, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			w := &recordingWriter{}
			ix := newIndexer(t, w, Options{BatchSize: tt.batchSize})
			for i := 0; i < tt.add; i++ {
				if err := ix.Add(ctx, numbered(i)); err != nil {
					t.Fatalf("Add %d: %v", i, err)
				}
			}
			if got := w.sizes(); !slices.Equal(got, tt.beforeFlush) {
				t.Errorf("batches before Flush = %v, want %v", got, tt.beforeFlush)
			}
			written := 0
			for _, n := range tt.beforeFlush {
				written += n
			}
			if ix.Written() != written {
				t.Errorf("Written() = %d before Flush, want %d", ix.Written(), written)
			}
			if err := ix.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if ix.Written() != tt.add {
				t.Errorf("Written() = %d after Flush, want %d", ix.Written(), tt.add)
			}
			var want []string
			for i := 0; i < tt.add; i++ {
				want = append(want, numbered(i).ID)
			}
			if got := w.ids(); !slices.Equal(got, want) {
				t.Errorf("written IDs = %v, want every document once in order", got)
			}
			batches := len(w.batches)
			if err := ix.Flush(ctx); err != nil || len(w.batches) != batches {
				t.Errorf("Flush with nothing pending = %v and wrote %d batches, want no write", err, len(w.batches)-batches)
			}
		})
	}
}

func TestIndexerRejectsInvalid(t *testing.T) {
	ctx := context.Background()
	w := &recordingWriter{}
	ix := newIndexer(t, w, Options{BatchSize: 2})
	if err := ix.Add(ctx, numbered(1)); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		doc   cari.Document
		field string
	}{
		{cari.Document{Text: "no id and no url"}, "id"},
		{cari.Document{URL: "/relative", Text: "x"}, "url"},
		{cari.Document{ID: "x", Text: "nul \x00"}, "text"},
		{cari.Document{ID: "x"}, "text"},
	}
	for _, b := range bad {
		err := ix.Add(ctx, b.doc)
		var fe *cari.FieldError
		if !errors.As(err, &fe) || fe.Field != b.field {
			t.Errorf("Add(%+v) = %v, want a FieldError on %s", b.doc, err, b.field)
		}
	}
	// The rejected documents neither filled the batch nor joined it.
	if len(w.batches) != 0 {
		t.Fatalf("rejected documents triggered a write: %v", w.sizes())
	}
	if err := ix.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.ids(); !slices.Equal(got, []string{"doc1"}) || ix.Written() != 1 {
		t.Errorf("wrote %v (Written %d), want only doc1", got, ix.Written())
	}
}

func TestIndexerNormalizesAndStamps(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("UTC+7", 7*3600))
	crawled := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &recordingWriter{}
	ix := newIndexer(t, w, Options{Now: func() time.Time { return now }})
	for _, d := range []cari.Document{
		{URL: "https://WWW.Example.com/page", Text: "derived"},
		{ID: "kept", Text: "crawl time kept", Crawled: crawled},
	} {
		if err := ix.Add(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := w.batches[0]
	if got[0].ID != cari.DocumentID("https://WWW.Example.com/page") || got[0].Domain != "example.com" || got[0].ContentHash != cari.ContentHash("derived") {
		t.Errorf("first document = %+v, want ID, Domain and ContentHash derived", got[0])
	}
	if !got[0].Crawled.Equal(now) || got[0].Crawled.Location() != time.UTC {
		t.Errorf("Crawled = %v, want Options.Now() %v in UTC", got[0].Crawled, now)
	}
	if !got[1].Crawled.Equal(crawled) {
		t.Errorf("Crawled = %v, want the document's own %v", got[1].Crawled, crawled)
	}
}

func TestIndexerWriteError(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("store unavailable")
	w := &recordingWriter{err: boom}
	ix := newIndexer(t, w, Options{BatchSize: 2})
	if err := ix.Add(ctx, numbered(1)); err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(ctx, numbered(2)); !errors.Is(err, boom) {
		t.Fatalf("Add filling a batch the store refuses = %v, want %v wrapped", err, boom)
	}
	if err := ix.Flush(ctx); !errors.Is(err, boom) {
		t.Fatalf("Flush = %v, want %v wrapped", err, boom)
	}
	if ix.Written() != 0 {
		t.Errorf("Written() = %d after failed writes", ix.Written())
	}
	// Nothing was lost: once the store recovers, Flush writes both.
	w.err = nil
	if err := ix.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.ids(); !slices.Equal(got, []string{"doc1", "doc2"}) || ix.Written() != 2 {
		t.Errorf("after recovery wrote %v (Written %d), want doc1 doc2", got, ix.Written())
	}
}

// The indexer stores each document's category: decided from its URL,
// title and text when its producer gave none, kept (in Exa's spelling)
// when it gave one, and refused, naming the field, when it is not one of
// Exa's.
func TestIndexerDecidesCategories(t *testing.T) {
	ctx := context.Background()
	w := &recordingWriter{}
	ix := newIndexer(t, w, Options{})
	for _, d := range []cari.Document{
		{ID: "repo", URL: "https://github.com/cari-search/cari", Title: "cari", Text: "A search engine."},
		{ID: "notes", Title: "Notes", Text: "Python's functools module provides higher-order functions."},
		{ID: "given", Title: "Annual results", Text: "Short.", Category: " Financial Report"},
	} {
		if err := ix.Add(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	var fe *cari.FieldError
	if err := ix.Add(ctx, cari.Document{ID: "bad", Text: "x", Category: "blog"}); !errors.As(err, &fe) || fe.Field != "category" {
		t.Errorf("an unknown category: %v, want a FieldError naming category", err)
	}
	if err := ix.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range w.batches[0] {
		got[d.ID] = d.Category
	}
	want := map[string]string{"repo": "github", "notes": "", "given": "financial report"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("categories %v, want %v", got, want)
	}
}
