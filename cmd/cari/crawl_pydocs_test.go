package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pythonDocsURLs lists the URLs of the 530 pages of the Python
// documentation as served by serveDocs.
func pythonDocsURLs(t *testing.T, base string) []string {
	var urls []string
	err := filepath.Walk(pythonDocs, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".html") {
			urls = append(urls, base+filepath.ToSlash(strings.TrimPrefix(p, pythonDocs)))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return urls
}

// TestCrawlPythonDocs is the crawler's acceptance test on a real site: the
// Python documentation (Debian's python3.11-doc), served on loopback. The
// crawl from index.html must index at least 520 of its 530 pages, and
// cari search must then find the json module's page for "json encoder
// decoder". A crawl killed midway and resumed must end with the same pages.
func TestCrawlPythonDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the 530 pages of the Python documentation; skipped with -short")
	}
	site := serveDocs(t, pythonDocs, 0)
	urls := pythonDocsURLs(t, site.URL)
	if len(urls) != 530 {
		t.Logf("the Python documentation has %d pages here, not 530", len(urls))
	}
	seed := site.URL + "/index.html"
	data := t.TempDir()
	start := time.Now()
	sum := crawlCari(t, 5*time.Minute, "--data", data, "--seed", seed, "--allow-private")
	t.Logf("crawled in %v: %+v", time.Since(start).Round(time.Millisecond), sum)
	if sum.Indexed < 520 || !sum.Done {
		t.Errorf("indexed %d pages (done %v), want at least 520 of %d", sum.Indexed, sum.Done, len(urls))
	}
	if n := len(storedIDs(t, data, urls)); int64(n) != sum.Indexed {
		t.Errorf("the index holds %d of the pages, the crawl says it indexed %d", n, sum.Indexed)
	}

	srv := startServe(t, data)
	out, _ := mustCari(t, "search", "--addr", srv.addr, "--json", "-n", "5", "json encoder decoder")
	var resp struct{ Results []struct{ URL, Title string } }
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("search --json printed %q: %v", out, err)
	}
	rank := 0
	for i, r := range resp.Results {
		if r.URL == site.URL+"/library/json.html" {
			rank = i + 1
			break
		}
	}
	t.Logf("search json encoder decoder: the json module's page at rank %d of %d", rank, len(resp.Results))
	if rank != 1 {
		t.Errorf("search json encoder decoder: results %+v, want library/json.html first", resp.Results)
	}

	t.Run("killed and resumed", func(t *testing.T) {
		checkKillAndResume(t, site, urls, 200, "--seed", seed)
	})
}
