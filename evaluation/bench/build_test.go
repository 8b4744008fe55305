package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/store"
)

// countingWriter counts the documents it is given.
type countingWriter struct{ docs int }

func (w *countingWriter) Upsert(_ context.Context, entries []store.Entry) error {
	w.docs += len(entries)
	return nil
}

// TestBuild: every document of the corpus reaches the store, progress is
// reported a document at a time, and the figures are the build's.
func TestBuild(t *testing.T) {
	corpus := filepath.Join(t.TempDir(), "corpus.jsonl")
	lines := `{"_id": "a", "title": "Tides", "text": "The moon raises the tides."}
{"_id": "b", "title": "Waves", "text": "Wind raises waves on the sea."}
{"_id": "c", "title": "Rain", "text": "Rain falls from clouds."}
`
	if err := os.WriteFile(corpus, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &countingWriter{}
	added := 0
	fig, err := Build(context.Background(), w, indexer.Options{}, corpus, filepath.Join(t.TempDir(), "ann"),
		indexer.LoadOptions{Language: "en", Added: func() { added++ }})
	if err != nil {
		t.Fatal(err)
	}
	if w.docs != 3 || added != 3 {
		t.Errorf("store got %d documents, progress %d; want 3 and 3", w.docs, added)
	}
	if fig.Seconds <= 0 || fig.DocsPerSecond <= 0 {
		t.Errorf("figures %+v: want a positive time and rate", fig)
	}
	if _, err := Build(context.Background(), w, indexer.Options{}, corpus+".missing", "", indexer.LoadOptions{}); err == nil {
		t.Error("a missing corpus: no error")
	}

	// The keyword-only build leaves nothing beside the data directory.
	parent := t.TempDir()
	kw, err := BuildKeywordOnly(context.Background(), filepath.Join(parent, "data"), corpus, indexer.LoadOptions{Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if kw.KeywordOnlySeconds <= 0 || kw.KeywordOnlyDocsPerSecond <= 0 {
		t.Errorf("keyword-only figures %+v", kw)
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("the keyword-only build left %v", left)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
	for _, tc := range []struct {
		edit func(*Options)
		want string
	}{
		{func(o *Options) { o.Reps = 0 }, "reps: must be at least 1, got 0"},
		{func(o *Options) { o.Warmup = -1 }, "warmup: must be at least 0, got -1"},
		{func(o *Options) { o.MaxQueries = 0 }, "max_queries: must be at least 1, got 0"},
		{func(o *Options) { o.TopK = 0 }, "top_k: must be at least 1, got 0"},
		{func(o *Options) { o.Workers = 0 }, "workers: must be at least 1, got 0"},
		{func(o *Options) { o.Modes = []string{"keyword", "fast"} }, `modes: unknown mode "fast"`},
	} {
		o := DefaultOptions()
		tc.edit(&o)
		if err := o.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want %q", err, tc.want)
		}
	}
}
