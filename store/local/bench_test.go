package local

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/indexer/corpus"
	"github.com/cari-search/cari/store"
)

// sharedDataset returns the path of a file under ../shared/datasets, or
// skips the benchmark when the collections are not beside the repository.
func sharedDataset(b *testing.B, rel string) string {
	b.Helper()
	p := filepath.Join("..", "..", "..", "shared", "datasets", rel)
	if _, err := os.Stat(p); err != nil {
		b.Skipf("%s not found: the benchmark needs ../shared/datasets", p)
	}
	return p
}

func loadCorpus(b *testing.B, path string) []cari.Document { return loadCorpusT(b, path) }

// loadCorpusT reads a BEIR corpus into normalized documents.
func loadCorpusT(b testing.TB, path string) []cari.Document {
	b.Helper()
	r, err := corpus.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var docs []cari.Document
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			b.Fatal(err)
		}
		d := cari.Document{ID: rec.ID, Title: rec.Title, Text: rec.Text}
		if d.Normalize() == nil {
			docs = append(docs, d)
		}
	}
}

func upsertAll(b *testing.B, s *Store, docs []cari.Document) {
	b.Helper()
	for i := 0; i < len(docs); i += 512 {
		if err := s.Upsert(context.Background(), entries(docs[i:min(i+512, len(docs))]...)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpsertSciFact indexes the 5,183 SciFact documents into a fresh
// store per iteration, in batches of 512 as cari index does.
func BenchmarkUpsertSciFact(b *testing.B) {
	docs := loadCorpus(b, sharedDataset(b, "scifact/corpus.jsonl.gz"))
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		s, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		upsertAll(b, s, docs)
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
}

// sciFactStore indexes SciFact's first maxDocs documents (all for -1)
// into a fresh store, closed when b ends, and loads SciFact's queries.
func sciFactStore(b *testing.B, maxDocs int) (*Store, []evaluation.Query) {
	b.Helper()
	docs := loadCorpus(b, sharedDataset(b, "scifact/corpus.jsonl.gz"))
	queries, err := evaluation.LoadQueries(sharedDataset(b, "scifact/queries.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if maxDocs >= 0 {
		docs = docs[:min(len(docs), maxDocs)]
	}
	upsertAll(b, s, docs)
	return s, queries
}

// BenchmarkSearchKeywordSciFact runs the 300 SciFact test queries (top 100)
// on one goroutine against the SciFact index.
func BenchmarkSearchKeywordSciFact(b *testing.B) {
	s, queries := sciFactStore(b, -1)
	ctx := context.Background()
	n := 0
	b.ResetTimer()
	for b.Loop() {
		q := queries[n%len(queries)]
		n++
		if _, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: q.Text, Limit: 100}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/query")
}

// BenchmarkRerankLoadSciFact loads what re-ranking reads of the top 50
// keyword hits of each SciFact test query, over the first 2,000 SciFact
// documents: their stored documents and match features, in one read of
// each document's stored fields (before MatchDocuments, Documents and then
// MatchFeatures read them twice; docs/BENCHMARKS.md has both).
func BenchmarkRerankLoadSciFact(b *testing.B) {
	s, queries := sciFactStore(b, 2000)
	ctx := context.Background()
	ids := make([][]string, len(queries))
	for i, q := range queries {
		hits, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: q.Text, Limit: 50})
		if err != nil {
			b.Fatal(err)
		}
		for _, h := range hits {
			ids[i] = append(ids[i], h.ID)
		}
	}
	n := 0
	for b.Loop() {
		i := n % len(queries)
		n++
		if _, err := s.MatchDocuments(ctx, queries[i].Text, ids[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/query")
}
