package extract

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari/internal/texttest"
)

// pythonDocs is where Debian's python3.11-doc puts the Python
// documentation: 530 interlinked HTML pages, real pages to extract.
const pythonDocs = "/usr/share/doc/python3.11/html"

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestExtractLinksAndDirectives(t *testing.T) {
	body := `<!DOCTYPE html><html lang="en-GB"><head><title>  Links
	page </title><base href="/docs/"><link rel="canonical" href="canon.html?utm_source=x">
	<meta name="ROBOTS" content="noindex"></head><body><main><p>` + texttest.Words(1, 80) + `</p>
	<a href="a.html">a</a> <a href="a.html#part">a again</a> <a href="#top">top</a>
	<a href="../b.html?z=1&amp;a=2">b</a> <a rel="nofollow ugc" href="c.html">c</a>
	<a href="mailto:x@example.com">mail</a> <a href="javascript:void(0)">js</a>
	<a href="https://other.example/">other</a> <area href="map.html"></main></body></html>`
	p, err := Decoded(mustURL(t, "http://example.com/x/page.html"), "text/html", []byte(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://example.com/docs/a.html", "http://example.com/b.html?a=2&z=1", "https://other.example/", "http://example.com/docs/map.html"}
	if !slices.Equal(p.Links, want) {
		t.Errorf("links\n got %q\nwant %q", p.Links, want)
	}
	if p.Canonical != "http://example.com/docs/canon.html" {
		t.Errorf("canonical %q", p.Canonical)
	}
	if !p.NoIndex || p.NoFollow {
		t.Errorf("noindex %v nofollow %v, want true false", p.NoIndex, p.NoFollow)
	}
	if p.Document.Title != "Links page" || p.Document.Language != "en-GB" {
		t.Errorf("title %q language %q", p.Document.Title, p.Document.Language)
	}

	p, _ = Decoded(mustURL(t, "http://example.com/"), "text/html", []byte(`<html><head><meta name="robots" content="none"></head><body><p>x</p><a href="/y">y</a></body></html>`), nil)
	if !p.NoIndex || !p.NoFollow || len(p.Links) != 0 {
		t.Errorf("robots none: noindex %v nofollow %v links %q", p.NoIndex, p.NoFollow, p.Links)
	}
}

func TestExtractImageLinks(t *testing.T) {
	body := `<html><head><title>Pictures</title><base href="/img/"></head><body><p>` + texttest.Words(1, 40) + `</p>
	<img src="a.png"> <img src="a.png#again"> <img src="data:image/png;base64,AAAA"> <img alt="no source">
	<img src="https://cdn.example/b.jpg?w=2"> <img src="  /c.gif  "> <a rel="nofollow" href="x.html"><img src="d.png"></a></body></html>`
	p, err := Decoded(mustURL(t, "http://example.com/x/page.html"), "text/html", []byte(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://example.com/img/a.png", "https://cdn.example/b.jpg?w=2", "http://example.com/c.gif", "http://example.com/img/d.png"}
	if !slices.Equal(p.ImageLinks, want) {
		t.Errorf("image links\n got %q\nwant %q", p.ImageLinks, want)
	}
}

func TestRobotsHeader(t *testing.T) {
	for _, tc := range []struct {
		values            []string
		noIndex, noFollow bool
	}{
		{[]string{"noindex"}, true, false},
		{[]string{"otherbot: noindex, nofollow"}, false, false},
		{[]string{"Cari: nofollow"}, false, true},
		{[]string{"none"}, true, true},
		{[]string{"all"}, false, false},
	} {
		h := http.Header{"X-Robots-Tag": tc.values}
		p, _ := Decoded(mustURL(t, "http://example.com/"), "text/plain", []byte("text"), h)
		if p.NoIndex != tc.noIndex || p.NoFollow != tc.noFollow {
			t.Errorf("X-Robots-Tag %q: noindex %v nofollow %v, want %v %v", tc.values, p.NoIndex, p.NoFollow, tc.noIndex, tc.noFollow)
		}
	}
}

func TestExtractMainText(t *testing.T) {
	article := `<html><head><title>A story - The Daily Site</title><meta property="og:site_name" content="The Daily Site">
	<meta name="author" content="Jo Reporter"></head><body>
	<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
	<div class="article"><h1>A story</h1><p>` + texttest.Words(2, 120) + `</p><p>` + texttest.Words(3, 120) + `</p></div>
	<aside class="sidebar"><h3>Related</h3><ul><li><a href="/1">Another story entirely</a></li></ul></aside>
	<footer>Copyright 2026 The Daily Site. All rights reserved.</footer></body></html>`
	p, err := Decoded(mustURL(t, "https://daily.example/story"), "text/html; charset=utf-8", []byte(article), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Document.Text, texttest.Words(3, 120)[:80]) {
		t.Errorf("main text lost: %q", p.Document.Text)
	}
	for _, boiler := range []string{"All rights reserved", "Another story entirely", "Sport"} {
		if strings.Contains(p.Document.Text, boiler) {
			t.Errorf("text keeps %q: %q", boiler, p.Document.Text)
		}
	}
	if p.Document.Author != "Jo Reporter" || p.SiteName != "The Daily Site" {
		t.Errorf("author %q site %q", p.Document.Author, p.SiteName)
	}

	// A table of contents: mostly links, which readability throws away as
	// boilerplate. The main landmark keeps it.
	var toc strings.Builder
	for i := range 40 {
		toc.WriteString(`<li><a href="/ch` + string(rune('a'+i%26)) + `.html">Chapter about ` + texttest.Words(uint64(i), 3) + `</a></li>`)
	}
	page := `<html><body><div class="sidebar"><a href="/">Home</a></div><div role="main"><h1>Contents</h1><ul>` + toc.String() + `</ul></div><footer>Footer text here</footer></body></html>`
	p, _ = Decoded(mustURL(t, "https://docs.example/"), "text/html", []byte(page), nil)
	if !strings.Contains(p.Document.Text, "Chapter about "+texttest.Words(39, 3)) || strings.Contains(p.Document.Text, "Footer text") {
		t.Errorf("table of contents page: %q", p.Document.Text)
	}

	if _, err := Decoded(mustURL(t, "https://x.example/"), "text/html", []byte("<html><body> </body></html>"), nil); err != ErrNoContent {
		t.Errorf("empty page: %v, want ErrNoContent", err)
	}
}

func TestToUTF8(t *testing.T) {
	for _, tc := range []struct {
		name, contentType string
		body              []byte
		html              bool
		want, charset     string
	}{
		{"header charset: colly decoded it", "text/html; charset=ISO-8859-1", []byte("caf\u00e9"), true, "caf\u00e9", "iso-8859-1"},
		{"utf-8 byte order mark", "text/html", []byte("\xef\xbb\xbfcaf\xc3\xa9"), true, "caf\u00e9", "utf-8"},
		{"meta charset", "text/html", []byte(`<meta charset="windows-1252"><p>caf` + "\xe9 \x93q\x94"), true, "caf\u00e9 \u201cq\u201d", "windows-1252"},
		{"http-equiv", "", []byte(`<meta http-equiv="content-type" content="text/html; charset=iso-8859-15"><p>` + "\xa4"), true, "\u20ac", "iso-8859-15"},
		{"valid utf-8", "text/plain", []byte("caf\xc3\xa9"), false, "caf\u00e9", "utf-8"},
	} {
		got, cs := toUTF8(tc.body, tc.contentType, tc.html)
		if !strings.Contains(string(got), tc.want) || cs != tc.charset {
			t.Errorf("%s: %q (%s), want it to contain %q (%s)", tc.name, got, cs, tc.want, tc.charset)
		}
	}
}

// TestExtractPythonDocsPage checks the extraction on a real page: the body
// of the json module's documentation, without Sphinx's sidebar and footer.
func TestExtractPythonDocsPage(t *testing.T) {
	path := filepath.Join(pythonDocs, "library", "json.html")
	body, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("the Python documentation is not installed (%v): apt-get install python3.11-doc", err)
	}
	p, err := Decoded(mustURL(t, "http://127.0.0.1/library/json.html"), "text/html", body, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := p.Document
	if d.Title != "json — JSON encoder and decoder" || d.Language != "en" {
		t.Errorf("title %q language %q", d.Title, d.Language)
	}
	for _, want := range []string{"JSON (JavaScript Object Notation)", "class json.JSONDecoder", "Show the help message."} {
		if !strings.Contains(d.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	for _, boiler := range []string{"Previous topic", "Quick search", "Report a Bug", "Python Software Foundation is a non-profit"} {
		if strings.Contains(d.Text, boiler) {
			t.Errorf("text keeps %q", boiler)
		}
	}
	if !slices.Contains(p.Links, "http://127.0.0.1/library/marshal.html") || len(p.Links) < 20 {
		t.Errorf("links %q, want marshal.html among 20 or more", p.Links)
	}
}
