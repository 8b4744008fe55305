package analysis_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/indexer/corpus"
)

// testSet is one labelled collection under ../shared/datasets and the
// language its documents and queries are written in.
type testSet struct{ name, language string }

var testSets = []testSet{{"scifact", analysis.English}, {"cranfield", analysis.English}, {"tydiqa-id", analysis.Indonesian}}

func datasetDir(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "datasets", name)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("needs ../shared/datasets/%s", name)
	}
	return dir
}

type text struct{ title, body string }

func loadTexts(t testing.TB, name string) (docs []text, queries []string) {
	t.Helper()
	dir := datasetDir(t, name)
	path := filepath.Join(dir, "corpus.jsonl")
	if _, err := os.Stat(path); err != nil {
		path += ".gz"
	}
	r, err := corpus.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		d, err := r.Next()
		if err != nil {
			break
		}
		if d.Title != "" || d.Text != "" {
			docs = append(docs, text{d.Title, d.Text})
		}
	}
	qs, err := evaluation.LoadQueries(filepath.Join(dir, "queries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		queries = append(queries, q.Text)
	}
	return docs, queries
}

// TestDetectionOnTestSets measures language detection on the documents and
// queries of the test collections, each written in one language: the share
// detected as that language, and the share of those detected sure
// (docs/EVALUATION.md records the figures).
func TestDetectionOnTestSets(t *testing.T) {
	if testing.Short() {
		t.Skip("detects every document of three collections: seconds")
	}
	d := analysis.NewDetector()
	for _, ts := range testSets {
		docs, queries := loadTexts(t, ts.name)
		var right, sure int
		start := time.Now()
		for _, doc := range docs {
			det := d.DetectDocument(doc.title, doc.body)
			if det.Language == ts.language {
				right++
				if det.Sure {
					sure++
				}
			}
		}
		perDoc := time.Since(start) / time.Duration(len(docs))
		docAcc := float64(right) / float64(len(docs))
		t.Logf("%s documents: %d, detected %s %.4f, of which sure %.4f (%v per document)", ts.name, len(docs), ts.language, docAcc, float64(sure)/float64(max(right, 1)), perDoc)
		right, sure = 0, 0
		for _, q := range queries {
			det := d.DetectQuery(q)
			if det.Language == ts.language {
				right++
				if det.Sure {
					sure++
				}
			}
		}
		qAcc := float64(right) / float64(len(queries))
		t.Logf("%s queries: %d, detected %s %.4f, of which sure %.4f", ts.name, len(queries), ts.language, qAcc, float64(sure)/float64(max(right, 1)))
		if docAcc < 0.99 || qAcc < 0.95 {
			t.Errorf("%s: detection accuracy %.4f on documents, %.4f on queries; want >= 0.99 and >= 0.95", ts.name, docAcc, qAcc)
		}
	}
}

// BenchmarkDetectDocument detects the language of documents of tydiqa-id
// and scifact in turn (the opening 2,000 bytes, as at indexing).
func BenchmarkDetectDocument(b *testing.B) {
	var docs []text
	for _, name := range []string{"tydiqa-id", "scifact"} {
		ds, _ := loadTexts(b, name)
		docs = append(docs, ds[:1000]...)
	}
	d := analysis.NewDetector()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		doc := docs[i%len(docs)]
		d.DetectDocument(doc.title, doc.body)
	}
}

// BenchmarkDetectQuery detects the language of the queries of tydiqa-id
// and scifact in turn.
func BenchmarkDetectQuery(b *testing.B) {
	var queries []string
	for _, name := range []string{"tydiqa-id", "scifact"} {
		_, qs := loadTexts(b, name)
		queries = append(queries, qs...)
	}
	d := analysis.NewDetector()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		d.DetectQuery(queries[i%len(queries)])
	}
}
