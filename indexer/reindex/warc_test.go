package reindex

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nlnwa/gowarc/v3"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store/local"
)

// archived is one HTTP exchange to write into a WARC file.
type archived struct {
	url     string
	status  string
	headers []string
	body    []byte
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// writeWARC writes a WARC file with gowarc: a warcinfo record, then for
// each exchange a request and a response record. Each record is its own
// gzip member when compress is set, as in Common Crawl's .warc.gz files.
func writeWARC(t *testing.T, path string, compress bool, exchanges ...archived) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := gowarc.NewMarshaler()
	date := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	write := func(rec gowarc.WarcRecord) {
		t.Helper()
		var w interface {
			Write([]byte) (int, error)
		} = f
		var zw *gzip.Writer
		if compress {
			zw = gzip.NewWriter(f)
			w = zw
		}
		if _, _, err := m.Marshal(w, rec, 0); err != nil {
			t.Fatal(err)
		}
		if zw != nil {
			zw.Close()
		}
	}
	build := func(typ gowarc.RecordType, target, contentType string, block []byte) gowarc.WarcRecord {
		t.Helper()
		rb := gowarc.NewRecordBuilder(typ, gowarc.WithAddMissingDigest(true))
		if target != "" {
			rb.AddWarcHeader(gowarc.WarcTargetURI, target)
		}
		rb.AddWarcHeaderTime(gowarc.WarcDate, date)
		rb.AddWarcHeader(gowarc.ContentType, contentType)
		rb.Write(block)
		rec, _, err := rb.Build()
		if err != nil {
			t.Fatalf("build %s record for %s: %v", typ, target, err)
		}
		return rec
	}
	write(build(gowarc.Warcinfo, "", gowarc.ApplicationWarcFields, []byte("software: cari test\r\nformat: WARC File Format 1.1\r\n")))
	for _, ex := range exchanges {
		write(build(gowarc.Request, ex.url, "application/http;msgtype=request",
			fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: example.org\r\n\r\n", ex.url)))
		head := "HTTP/1.1 " + ex.status + "\r\n" + strings.Join(ex.headers, "\r\n") + fmt.Sprintf("\r\nContent-Length: %d\r\n\r\n", len(ex.body))
		write(build(gowarc.Response, ex.url, "application/http;msgtype=response", append([]byte(head), ex.body...)))
	}
}

const tidePage = `<!doctype html><html lang="en"><head><title>Tide tables of the harbour</title></head>
<body><nav>Home | About</nav><main><h1>Tide tables</h1><p>High water at the harbour comes twice a day, about every twelve hours and twenty-five minutes, pulled by the moon.</p></main></body></html>`

func TestWARCSource(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compressed=%v", compress), func(t *testing.T) {
			dir := t.TempDir()
			name := "crawl.warc"
			if compress {
				name += ".gz"
			}
			latin1 := []byte("<html><head><title>Caf\xe9 menu</title></head><body><main><p>Cr\xe8me br\xfbl\xe9e and caf\xe9 au lait are served all day in our caf\xe9.</p></main></body></html>")
			writeWARC(t, filepath.Join(dir, name), compress,
				archived{url: "http://Example.org:80/tides?utm_source=x", status: "200 OK",
					headers: []string{"Content-Type: text/html; charset=utf-8"}, body: []byte(tidePage)},
				archived{url: "https://example.org/gz", status: "200 OK",
					headers: []string{"Content-Type: text/html", "Content-Encoding: gzip"},
					body:    gzipped(t, strings.Replace(tidePage, "Tide tables", "Gzipped tide tables", 2))},
				archived{url: "https://example.org/cafe", status: "200 OK",
					headers: []string{"Content-Type: text/html; charset=iso-8859-1"}, body: latin1},
				archived{url: "https://example.org/missing", status: "404 Not Found",
					headers: []string{"Content-Type: text/html"}, body: []byte("<p>not here</p>")},
				archived{url: "https://example.org/logo.png", status: "200 OK",
					headers: []string{"Content-Type: image/png"}, body: []byte("\x89PNG\r\n\x1a\n")},
				archived{url: "https://example.org/broken", status: "200 OK",
					headers: []string{"Content-Type: text/html", "Content-Encoding: gzip"}, body: []byte("not gzip at all")},
			)
			s := openStore(t, t.TempDir(), local.Options{})
			src, err := OpenWARC(filepath.Join(dir, "*.warc*"))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			p, err := Run(context.Background(), Options{Target: Local(s), Source: src, MaxFailedFraction: 0.5})
			if err != nil {
				t.Fatal(err)
			}
			if p.Done != 6 || p.Indexed != 3 || p.Skipped != 2 || p.Failed != 1 || p.Errors["encoding"] != 1 {
				t.Fatalf("progress %+v", p)
			}
			plain, gz, cafe := cari.DocumentID("http://example.org/tides"), cari.DocumentID("https://example.org/gz"), cari.DocumentID("https://example.org/cafe")
			got := docs(t, s, plain, gz, cafe)
			if d := got[plain]; d.URL != "http://example.org/tides" || d.Title != "Tide tables of the harbour" ||
				!strings.Contains(d.Text, "twenty-five minutes") || strings.Contains(d.Text, "Home | About") || d.Domain != "example.org" ||
				!d.Crawled.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
				t.Errorf("plain response: %+v", d)
			}
			if d := got[gz]; !strings.Contains(d.Title, "Gzipped tide tables") || !strings.Contains(d.Text, "pulled by the moon") {
				t.Errorf("gzip-encoded response: %+v", d)
			}
			if d := got[cafe]; d.Title != "Café menu" || !strings.Contains(d.Text, "Crème brûlée") {
				t.Errorf("latin-1 response: %+v", d)
			}
		})
	}
}

// A WARC file written by another implementation: GNU Wget records a
// crawl of a local server, whose page is sent gzip-encoded.
func TestWARCFromWget(t *testing.T) {
	wget, err := exec.LookPath("wget")
	if err != nil {
		t.Skip("wget is not installed")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/tides" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gzipped(t, tidePage))
	}))
	defer srv.Close()
	dir := t.TempDir()
	cmd := exec.Command(wget, "--quiet", "--tries=1", "--no-proxy", "--compression=none",
		"--warc-file="+filepath.Join(dir, "wget"), "--no-warc-keep-log", "-O", os.DevNull, srv.URL+"/tides")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wget: %v\n%s", err, out)
	}
	s := openStore(t, t.TempDir(), local.Options{})
	src, err := OpenWARC(filepath.Join(dir, "wget.warc.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p, err := Run(context.Background(), Options{Target: Local(s), Source: src})
	if err != nil {
		t.Fatal(err)
	}
	if p.Indexed != 1 || p.Failed != 0 {
		t.Fatalf("progress %+v", p)
	}
	u := strings.Replace(srv.URL, "localhost", "127.0.0.1", 1) + "/tides"
	d := docs(t, s, cari.DocumentID(u))[cari.DocumentID(u)]
	if d.Title != "Tide tables of the harbour" || !strings.Contains(d.Text, "pulled by the moon") {
		t.Fatalf("document from wget's WARC: %+v", d)
	}
}
