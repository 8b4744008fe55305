package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari/evaluation/bench"
	"github.com/cari-search/cari/store/local/hnsw/vectorset"
)

// benchJSON runs cari bench --json and decodes its report.
func benchJSON(t *testing.T, args ...string) bench.Report {
	t.Helper()
	out, err := runModelsCmd(t, append([]string{"bench", "--json", "--reps", "2", "--warmup", "3"}, args...)...)
	if err != nil {
		t.Fatalf("cari bench: %v\n%s", err, out)
	}
	var rep bench.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("cari bench --json printed %q: %v", out, err)
	}
	return rep
}

func writeQueries(t *testing.T, path string, texts ...string) {
	t.Helper()
	var b strings.Builder
	for i, q := range texts {
		line, _ := json.Marshal(map[string]string{"_id": string(rune('a' + i)), "text": q})
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBenchKeywordOnly builds a keyword-only index of the sample corpus,
// then opens it again, and checks what the report says about both runs.
func TestBenchKeywordOnly(t *testing.T) {
	dir := t.TempDir()
	data, queries := filepath.Join(dir, "data"), filepath.Join(dir, "queries.jsonl")
	sample := filepath.Join("..", "..", "testdata", "corpus", "sample.jsonl")
	writeQueries(t, queries, "search engine", "vector embeddings", "crawler politeness")
	args := []string{"--data", data, "--queries", queries, "--embedder", "none", "--reranker", "none"}

	rep := benchJSON(t, append(args, "--corpus", sample)...)
	if rep.Documents != 12 || rep.Index == nil || rep.Index.DocsPerSecond <= 0 || rep.Index.KeywordOnlyDocsPerSecond <= 0 {
		t.Fatalf("first run: %d documents, index figures %+v; want 12 and a build with both throughputs", rep.Documents, rep.Index)
	}
	if rep.DiskBytes <= 0 || rep.RSSBytes <= 0 || rep.PeakRSSBytes < rep.RSSBytes {
		t.Errorf("disk %d, RSS %d, peak %d: want all positive, peak at least RSS", rep.DiskBytes, rep.RSSBytes, rep.PeakRSSBytes)
	}
	var modes []string
	for _, s := range rep.Searches {
		modes = append(modes, s.Mode)
		if s.Queries != 3 || s.Reps != 2 || s.P50Ms <= 0 || s.P99Ms < s.P50Ms || s.QPS <= 0 || s.ParallelQPS <= 0 {
			t.Errorf("mode %s: %+v", s.Mode, s)
		}
	}
	// Without an embedder or a re-ranker only the keyword modes can run.
	if strings.Join(modes, ",") != "keyword,keyword-index" {
		t.Errorf("modes timed %v, want keyword and keyword-index", modes)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "bench-keyword-only-*")); len(matches) > 0 {
		t.Errorf("the keyword-only build was left behind: %v", matches)
	}

	again := benchJSON(t, args...)
	if again.Index != nil || again.Documents != 12 {
		t.Errorf("second run: index figures %+v, %d documents; want the index opened, not rebuilt", again.Index, again.Documents)
	}

	other := filepath.Join(dir, "not-bench")
	keep := filepath.Join(other, "keep.txt")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keep, []byte("someone's data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runModelsCmd(t, "bench", "--data", other, "--queries", queries, "--corpus", sample, "--rebuild"); err == nil || !strings.Contains(err.Error(), "--rebuild") {
		t.Errorf("--rebuild of a directory cari bench did not build: error %v, want one naming --rebuild", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("--rebuild refused, yet the directory's file is gone: %v", err)
	}
	rebuilt := benchJSON(t, append(args, "--corpus", sample, "--rebuild", "--keyword-index=false")...)
	if rebuilt.Index == nil || rebuilt.Documents != 12 {
		t.Errorf("--rebuild of the bench directory: index figures %+v, %d documents; want a fresh build of 12", rebuilt.Index, rebuilt.Documents)
	}
	if _, err := runModelsCmd(t, "bench", "--data", data, "--queries", queries, "--modes", "keyword,fuzzy"); err == nil || !strings.Contains(err.Error(), "--modes") {
		t.Errorf("--modes fuzzy: error %v, want one naming --modes", err)
	}
	missing := filepath.Join(dir, "fresh")
	if _, err := runModelsCmd(t, "bench", "--data", missing, "--queries", queries, "--corpus", filepath.Join(dir, "no-such.jsonl")); err == nil || !strings.Contains(err.Error(), "--corpus") {
		t.Errorf("a missing --corpus: error %v, want one naming --corpus", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a missing --corpus left a --data directory behind")
	}
}

// TestBenchVectors builds the sample corpus with the static model and
// checks the vector file the peers read and the recall measured against it.
func TestBenchVectors(t *testing.T) {
	model := filepath.Join("..", "..", "models", "glove-6b-100d.cvec")
	if _, err := os.Stat(model); err != nil {
		t.Skip("needs the static model (make models)")
	}
	dir := t.TempDir()
	queries, ann := filepath.Join(dir, "queries.jsonl"), filepath.Join(dir, "vectors.ann")
	writeQueries(t, queries, "search engine ranking", "neural network embeddings")
	rep := benchJSON(t, "--data", filepath.Join(dir, "data"), "--corpus", filepath.Join("..", "..", "testdata", "corpus", "sample.jsonl"),
		"--queries", queries, "--embed-model", model, "--ann", ann, "--keyword-index=false")
	if len(rep.Searches) != 6 {
		t.Errorf("timed %d modes, want all 6: %+v", len(rep.Searches), rep.Searches)
	}
	// Twelve documents are below the exact-scan threshold: the store's
	// vector search is exact, so its recall must be 1.
	if rep.VectorRecall10 == nil || *rep.VectorRecall10 != 1 {
		t.Errorf("recall@10 %v, want 1 (an exact scan)", rep.VectorRecall10)
	}
	b, err := os.ReadFile(ann)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	n, nq, dim, k := le.Uint32(b[8:]), le.Uint32(b[12:]), le.Uint32(b[16:]), le.Uint32(b[20:])
	if string(b[:8]) != vectorset.Magic || int64(n) != rep.Passages || nq != 2 || dim != 100 || k != bench.RecallK {
		t.Fatalf("header %q n=%d nq=%d dim=%d k=%d; want %s, %d passages, 2 queries, 100, %d", b[:8], n, nq, dim, k, vectorset.Magic, rep.Passages, bench.RecallK)
	}
	if want := 24 + 4*(int(n)*int(dim)+int(nq)*int(dim)+2*int(nq)*int(k)); len(b) != want {
		t.Errorf("file of %d bytes, want %d", len(b), want)
	}
	if _, err := os.Stat(ann + ".base"); err == nil {
		t.Error("the raw vector file was left behind")
	}
}
