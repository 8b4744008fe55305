package extract

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cari-search/cari"
)

// FuzzExtract feeds arbitrary bytes through charset decoding and
// extraction, as a fetched page would go. Extraction returns a page or
// ErrNoContent, never panics, and what it returns is valid UTF-8 within the
// document limits, with every link in canonical form. Seeds are in
// testdata/fuzz/FuzzExtract.
func FuzzExtract(f *testing.F) {
	f.Add([]byte(`<html><head><title>T</title><link rel=canonical href="/c"></head><body><main><p>Hello <a href="/x?utm_source=y">x</a></p></main></body></html>`), "text/html", "noindex")
	f.Add([]byte("plain text\x00with a NUL\xff\xfe"), "text/plain; charset=utf-8", "")
	f.Add([]byte(strings.Repeat("<div>", 5000)+"deep"+strings.Repeat("</div>", 5000)), "text/html", "")
	f.Add([]byte(`<meta charset="koi8-r"><p>`+"\xf0\xd2\xc9\xd7\xc5\xd4"+`</p>`), "text/html", "")
	f.Add([]byte("\xef\xbb\xbf<svg><a href='javascript:alert(1)'>s</a></svg><base href='http://[::1'>"), "application/xhtml+xml", "nofollow, noindex")
	base, _ := url.Parse("https://example.com/dir/page.html")
	f.Fuzz(func(t *testing.T, body []byte, contentType, robots string) {
		utf, _ := toUTF8(body, contentType, !strings.HasPrefix(contentType, "text/plain"))
		header := http.Header{}
		if robots != "" {
			header.Set("X-Robots-Tag", robots)
		}
		p, err := Decoded(base, contentType, utf, header)
		if err != nil {
			if !errors.Is(err, ErrNoContent) {
				t.Logf("extract error: %v", err)
			}
			return
		}
		d := p.Document
		for name, v := range map[string]string{"title": d.Title, "text": d.Text, "author": d.Author, "site name": p.SiteName} {
			if !utf8.ValidString(v) {
				t.Errorf("%s is not valid UTF-8: %q", name, v)
			}
		}
		if len(d.Title) > cari.MaxTitleBytes || len(d.Text) > cari.MaxTextBytes {
			t.Errorf("title of %d bytes or text of %d bytes is over the limits", len(d.Title), len(d.Text))
		}
		for _, l := range append(p.Links, p.Canonical) {
			if l == "" {
				continue
			}
			if c, err := Canonicalize(l); err != nil || c != l {
				t.Errorf("link %q is not canonical: %q, %v", l, c, err)
			}
		}
	})
}

// FuzzCanonicalize checks that a canonical URL is an absolute http(s) URL
// that canonicalizes to itself. Seeds are in
// testdata/fuzz/FuzzCanonicalize.
func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{
		"HTTP://Example.COM:80/a/./b/../c?utm_source=x&b=2&a=1#frag",
		"https://[::1]:443/%7euser/%2f?q=%zz",
		"http://xn--nxasmq6b.example/ä ö",
		"//no-scheme.example/",
		"http://user:pass@host.example:99999/",
		"http://a.example/" + strings.Repeat("../", 50),
		"http://\x00nul.example/",
		"javascript:alert(1)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := Canonicalize(raw)
		if err != nil {
			return
		}
		u, err := url.Parse(c)
		if err != nil {
			t.Fatalf("Canonicalize(%q) = %q, which does not parse: %v", raw, c, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Errorf("Canonicalize(%q) = %q, not an absolute http(s) URL", raw, c)
		}
		if c2, err := Canonicalize(c); err != nil || c2 != c {
			t.Errorf("Canonicalize is not idempotent: %q -> %q -> %q (%v)", raw, c, c2, err)
		}
		if bytes.ContainsAny([]byte(c), " \x00\n") {
			t.Errorf("Canonicalize(%q) = %q holds a space, NUL or newline", raw, c)
		}
	})
}
