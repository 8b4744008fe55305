package crawler

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pythonDocs is where Debian's python3.11-doc puts the Python
// documentation: 530 interlinked HTML pages.
const pythonDocs = "/usr/share/doc/python3.11/html"

// servePythonDocs serves the Python documentation on loopback the way a
// plain static web server does (a directory answers with its index.html).
func servePythonDocs(t testing.TB) *httptest.Server {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pythonDocs, "index.html")); err != nil {
		t.Skipf("the Python documentation is not installed (%v): apt-get install python3.11-doc", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := filepath.Join(pythonDocs, filepath.FromSlash(filepath.Clean("/"+r.URL.Path)))
		if strings.HasSuffix(r.URL.Path, "/") {
			p = filepath.Join(p, "index.html")
		}
		f, err := os.Open(p)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil || fi.IsDir() {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestCrawlPythonDocs crawls the Python documentation from index.html:
// every page reachable by links (526 of the 530; four are orphans) is
// indexed, none is mistaken for a duplicate, and the json module's page
// keeps its body.
func TestCrawlPythonDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls 530 pages; skipped with -short")
	}
	srv := servePythonDocs(t)
	sink := &memSink{}
	o := Options{Seeds: []string{srv.URL + "/index.html"}}
	loopbackOnly(t, &o)
	p := crawl(t, t.TempDir(), sink, o)
	t.Logf("%d fetched, %d indexed in %v (%.0f pages/s without an index); skipped %v, errors %v",
		p.Fetched, p.Indexed, p.Elapsed.Round(time.Millisecond), p.PagesPerSecond, p.Skipped, p.Errors)
	if p.Indexed < 520 {
		t.Errorf("indexed %d pages, want at least 520 of 530", p.Indexed)
	}
	if p.Skipped["duplicate"]+p.Skipped["near_duplicate"] != 0 {
		t.Errorf("pages taken for duplicates: %v", p.Skipped)
	}
	err := filepath.Walk(pythonDocs, func(path string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(path, ".html") {
			if _, ok := sink.byURL(srv.URL + strings.TrimPrefix(path, pythonDocs)); !ok {
				t.Logf("not indexed: %s", strings.TrimPrefix(path, pythonDocs))
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	d, ok := sink.byURL(srv.URL + "/library/json.html")
	if !ok || !strings.Contains(d.Text, "JSON (JavaScript Object Notation)") {
		t.Errorf("library/json.html: indexed %v, text %.100q", ok, d.Text)
	}
}
