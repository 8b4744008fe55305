package reindex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local"
)

// Local is the local store as a Target. The package itself names no
// store (its callers pass one with Builds); its tests build into a local one.
func Local(s *local.Store) Target { return Builds(s.BeginBuild) }

func openStore(t *testing.T, dir string, opts local.Options) *local.Store {
	t.Helper()
	s, err := local.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// writeCorpus writes a BEIR corpus.jsonl with the given lines.
func writeCorpus(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "corpus.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func corpusLine(id, title, text string) string {
	b, _ := json.Marshal(map[string]string{"_id": id, "title": title, "text": text})
	return string(b)
}

func docs(t *testing.T, s *local.Store, ids ...string) map[string]cari.Document {
	t.Helper()
	out, err := s.Documents(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCorpusReindex(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir(), local.Options{})
	ix, _ := indexer.New(s, indexer.Options{})
	for _, d := range []cari.Document{{ID: "a", Title: "old a", Text: "old text"}, {ID: "stale", Text: "only in the old generation"}} {
		if err := ix.Add(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	old := s.Generation().Name

	var lines []string
	for i := range 40 {
		lines = append(lines, corpusLine(fmt.Sprintf("d%02d", i), fmt.Sprintf("title %d", i), fmt.Sprintf("text about topic %d", i)))
	}
	lines = append(lines, corpusLine("a", "new a", "new text"), `{"_id": 7}`)
	src, err := OpenCorpus(writeCorpus(t, lines...))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var phases []Phase
	p, err := Run(ctx, Options{Target: Local(s), Source: src, BatchSize: 8, MaxFailedFraction: 0.05,
		Progress: func(p Progress) {
			if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
				phases = append(phases, p.Phase)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 42 || p.Done != 42 || p.Indexed != 41 || p.Failed != 1 || p.Errors["invalid"] != 1 || !p.Swapped || p.Phase != Done {
		t.Fatalf("progress %+v", p)
	}
	if want := []Phase{Preparing, Indexing, Finalizing, Swapping, Done}; fmt.Sprint(phases) != fmt.Sprint(want) {
		t.Fatalf("phases %v, want %v", phases, want)
	}
	if s.Generation().Name == old || s.Generation().Name != p.Generation {
		t.Fatalf("serving %s, built %s, old %s", s.Generation().Name, p.Generation, old)
	}
	got := docs(t, s, "a", "stale", "d39")
	if got["a"].Title != "new a" || got["d39"].Title != "title 39" {
		t.Fatalf("new generation: %+v", got)
	}
	if _, ok := got["stale"]; ok {
		t.Fatal("a document the source lacks is still served")
	}
}

func TestTooManyFailuresLeavesServingGeneration(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir(), local.Options{})
	old := s.Generation().Name
	src, err := OpenCorpus(writeCorpus(t, corpusLine("a", "a", "text"), `not json`, `{"title": "no id"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = Run(ctx, Options{Target: Local(s), Source: src, Discard: true})
	if !errors.Is(err, ErrTooManyFailures) || !strings.Contains(err.Error(), "2 of 3") {
		t.Fatalf("Run: %v, want ErrTooManyFailures counting 2 of 3", err)
	}
	if s.Generation().Name != old {
		t.Fatalf("serving %s, want the old %s", s.Generation().Name, old)
	}
	gens, err := s.Generations(ctx)
	if err != nil || len(gens) != 1 {
		t.Fatalf("generations after a discarded job: %+v, %v", gens, err)
	}
}

// failingSource ends with an error after n records, as a killed job would
// stop reading.
type failingSource struct {
	Source
	n int
}

func (f *failingSource) Next() (Item, error) {
	if f.n == 0 {
		return Item{}, errors.New("source went away")
	}
	f.n--
	return f.Source.Next()
}

func TestResumeAfterStop(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var lines []string
	for i := range 50 {
		lines = append(lines, corpusLine(fmt.Sprintf("d%02d", i), "", fmt.Sprintf("text %d", i)))
	}
	path := writeCorpus(t, lines...)

	s, err := local.Open(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src, _ := OpenCorpus(path)
	_, err = Run(ctx, Options{Target: Local(s), Source: &failingSource{src, 23}, BatchSize: 10})
	src.Close()
	if err == nil || !strings.Contains(err.Error(), "source went away") {
		t.Fatalf("first run: %v", err)
	}
	s.Close()

	s = openStore(t, dir, local.Options{})
	src, _ = OpenCorpus(path)
	defer src.Close()
	p, err := Run(ctx, Options{Target: Local(s), Source: src, BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	// The 23 records read before the source failed were committed (two
	// whole batches and the partial third).
	if !p.Resumed || p.Start != 23 || p.Done != 50 || p.Indexed != 27 {
		t.Fatalf("resumed run: %+v", p)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Documents != 50 {
		t.Fatalf("stats %+v, %v; want 50 documents", st, err)
	}
	ids, _ := s.DocumentIDs(ctx)
	if len(ids) != 50 || ids[0] != "d00" || ids[49] != "d49" {
		t.Fatalf("ids %v", ids)
	}
}

func TestDirSource(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"guide/intro.md":  "# Getting started\n\nInstall the package and run it.",
		"notes.txt":       "Meeting notes\nWe chose bleve for the keyword index.",
		"site/page.html":  `<html><head><title>Tide tables</title></head><body><main><h1>Tide tables</h1><p>High water at the harbour comes twice a day, about every twelve hours and twenty-five minutes.</p></main></body></html>`,
		"images/logo.png": "\x89PNG\r\n",
	}
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := openStore(t, t.TempDir(), local.Options{})
	src, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Run(context.Background(), Options{Target: Local(s), Source: src})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 4 || p.Indexed != 3 || p.Skipped != 1 || p.Failed != 0 {
		t.Fatalf("progress %+v", p)
	}
	got := docs(t, s, "guide/intro.md", "notes.txt", "site/page.html")
	if got["guide/intro.md"].Title != "Getting started" || got["notes.txt"].Title != "Meeting notes" ||
		got["site/page.html"].Title != "Tide tables" || !strings.Contains(got["site/page.html"].Text, "twelve hours") {
		t.Fatalf("documents: %+v", got)
	}
	if u := got["site/page.html"].URL; u != "" {
		t.Fatalf("a file got URL %q", u)
	}
}

// embeddingServer speaks POST /v1/embeddings as vLLM and TEI do and counts
// the inputs it embedded.
func embeddingServer(t *testing.T, dim int) (*httptest.Server, func() int) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		n += len(req.Input)
		mu.Unlock()
		data := make([]map[string]any, len(req.Input))
		for i, in := range req.Input {
			v := make([]float32, dim)
			for j, c := range in {
				v[(j+int(c))%dim] += 1
			}
			data[i] = map[string]any{"index": i, "embedding": v}
		}
		json.NewEncoder(w).Encode(map[string]any{"data": data})
	}))
	t.Cleanup(srv.Close)
	return srv, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// A rebuild from the stored documents with the same model (as after a
// change of analyzer or chunk-independent settings) embeds nothing: every
// passage comes from the embedding cache.
func TestStoredRebuildReusesEmbeddingCache(t *testing.T) {
	ctx := context.Background()
	srv, embedded := embeddingServer(t, 8)
	dir := t.TempDir()
	emb, err := embeddings.New(ctx, embeddings.Config{Provider: embeddings.ProviderOpenAI, URL: srv.URL + "/v1", Model: "test-embedder",
		CacheDir: filepath.Join(dir, "embcache"), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	info := emb.Model()
	s := openStore(t, dir, local.Options{Vectors: store.VectorSpace{Model: info.ID(), Dim: info.Dim}})
	ix, _ := indexer.New(s, indexer.Options{Embedder: emb})
	for i := range 30 {
		d := cari.Document{ID: fmt.Sprintf("d%d", i), Title: fmt.Sprintf("Doc %d", i),
			Text: fmt.Sprintf("Sentence one of document %d. Sentence two says more about item %d.", i, i)}
		if err := ix.Add(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cold := embedded()
	if cold < 30 {
		t.Fatalf("the first index embedded %d passages, want at least 30", cold)
	}

	src, err := OpenStored(ctx, s, s.Generation().Name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Run(ctx, Options{Target: Local(s), Source: src, Embedder: emb})
	if err != nil {
		t.Fatal(err)
	}
	if p.Indexed != 30 {
		t.Fatalf("progress %+v", p)
	}
	if got := embedded() - cold; got != 0 {
		t.Fatalf("the rebuild sent %d passages to the model, want 0 (all cached)", got)
	}
	hits, err := s.SearchVector(ctx, store.VectorQuery{Vector: mustEmbedQuery(t, emb, "document 7"), Limit: 3, Model: info.ID()})
	if err != nil || len(hits) == 0 {
		t.Fatalf("vector search on the rebuilt generation: %v, %v", hits, err)
	}
}

func mustEmbedQuery(t *testing.T, e *embeddings.Provider, q string) []float32 {
	t.Helper()
	v, err := e.EmbedQuery(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
