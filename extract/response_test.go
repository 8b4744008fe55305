package extract

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestFetchedAndStored checks the one way the two differ: a body whose
// header names a charset is in that charset when stored, and already UTF-8
// when colly fetched it; every other step is the same.
func TestFetchedAndStored(t *testing.T) {
	u := mustURL(t, "http://example.com/a")
	latin1 := http.Header{"Content-Type": {"text/plain; charset=iso-8859-1"}}
	for _, tc := range []struct {
		name    string
		extract func() (Page, error)
	}{
		{"stored", func() (Page, error) { return Stored(u, latin1, []byte("caf\xe9")) }},
		{"fetched", func() (Page, error) { return Fetched(u, latin1, []byte("caf\u00e9")) }},
	} {
		p, err := tc.extract()
		if err != nil || p.Document.Text != "caf\u00e9" {
			t.Errorf("%s: text %q, %v; want %q", tc.name, p.Document.Text, err, "caf\u00e9")
		}
	}

	noindex := http.Header{"X-Robots-Tag": {"noindex"}}
	p, err := Fetched(u, noindex, []byte(`<html><body><p>text</p><a href="/b">b</a></body></html>`))
	if !errors.Is(err, ErrNoIndex) || !errors.Is(err, ErrNotPage) || len(p.Links) != 1 {
		t.Errorf("noindex page: %v, links %q; want ErrNoIndex (an ErrNotPage) and its link", err, p.Links)
	}
	_, err = Stored(u, nil, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	if !errors.Is(err, ErrNotPage) || errors.Is(err, ErrNoIndex) {
		t.Errorf("sniffed image: %v, want ErrNotPage and not ErrNoIndex", err)
	}
	if _, err := Archived("mailto:a@b.example", nil, []byte("x"), time.Now()); !errors.Is(err, ErrNotHTTP) {
		t.Errorf("archived mailto: %v, want ErrNotHTTP", err)
	}
}

func TestAccepts(t *testing.T) {
	for ct, want := range map[string]bool{
		"": true, "text/html; charset=utf-8": true, "application/xhtml+xml": true,
		"TEXT/PLAIN": true, "image/png": false, "application/pdf": false,
	} {
		if got := Accepts(ct); got != want {
			t.Errorf("Accepts(%q) = %v, want %v", ct, got, want)
		}
	}
}
