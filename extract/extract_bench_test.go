package extract

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkExtractPythonDocs extracts every page of the Python
// documentation, one core: the crawler's CPU cost per page.
//
//	go test -run XXX -bench ExtractPythonDocs ./extract/
func BenchmarkExtractPythonDocs(b *testing.B) {
	var pages [][]byte
	var urls []*url.URL
	filepath.Walk(pythonDocs, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".html") {
			body, _ := os.ReadFile(p)
			pages = append(pages, body)
			u, _ := url.Parse("http://127.0.0.1" + strings.TrimPrefix(p, pythonDocs))
			urls = append(urls, u)
		}
		return nil
	})
	if len(pages) == 0 {
		b.Skipf("the Python documentation is not installed in %s: apt-get install python3.11-doc", pythonDocs)
	}
	b.ResetTimer()
	for b.Loop() {
		for i, p := range pages {
			Decoded(urls[i], "text/html", p, nil)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*len(pages)), "ms/page")
}
