package qdrant_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/evaluation/bench"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/qdrant"
	"github.com/cari-search/cari/store/qdrant/qdranttest"
)

// BenchmarkPointSize writes 2,000 passages generated as cari bench
// generate writes them (SciFact's word statistics, one passage per
// document) through the Qdrant store to the double, and reports what one
// document sends Qdrant: its payload and the non-zero entries of its BM25
// sparse vector. docs/OPERATIONS.md's sizing guide is built on them; the
// dense vectors' size is 4 bytes times the model's dimension.
func BenchmarkPointSize(b *testing.B) {
	path := filepath.Join("..", "..", "..", "shared", "datasets", "scifact", "corpus.jsonl.gz")
	if _, err := os.Stat(path); err != nil {
		b.Skip("needs ../shared/datasets/scifact")
	}
	titles, texts, err := bench.Vocabulary(path)
	if err != nil {
		b.Fatal(err)
	}
	const n = 2000
	ctx := context.Background()
	for b.Loop() {
		srv, addr := qdranttest.Start(b, "")
		s, err := qdrant.Open(ctx, qdrant.Options{Addr: addr, Vectors: store.VectorSpace{Model: "m", Dim: 4}})
		if err != nil {
			b.Fatal(err)
		}
		g := bench.NewGenerator(titles, texts, 1)
		var entries []store.Entry
		textBytes := 0
		for i := range n {
			title, text := g.Next()
			textBytes += len(title) + len(text)
			d := cari.Document{ID: fmt.Sprint("d", i), URL: fmt.Sprintf("https://example.com/%d", i), Title: title, Text: text,
				Language: "en", Crawled: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			entries = append(entries, store.Entry{Doc: d, Chunks: []cari.Chunk{{End: len(text)}}, Vectors: [][]float32{{1, 0, 0, 0}}})
		}
		for i := 0; i < n; i += 500 {
			if err := s.Upsert(ctx, entries[i:i+500]); err != nil {
				b.Fatal(err)
			}
		}
		payload, sparse := 0, 0
		for _, r := range srv.Requests("Points/Upsert") {
			for _, p := range r.Message.(*pb.UpsertPoints).GetPoints() {
				for _, v := range p.GetPayload() {
					payload += proto.Size(v)
				}
				sparse += len(p.GetVectors().GetVectors().GetVectors()["bm25"].GetSparse().GetIndices())
			}
		}
		s.Close()
		b.ReportMetric(float64(textBytes)/n, "text-B/doc")
		b.ReportMetric(float64(payload)/n, "payload-B/doc")
		b.ReportMetric(float64(sparse)/n, "sparse-nnz/doc")
	}
}
