package extract

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cari-search/cari/internal/texttest"
)

const sectionsPage = `<html><head><title>Harbour</title><meta name="description" content="All about the harbour">
<script>var tracking = 1;</script></head><body>
<div role="banner">Harbour Trust banner</div>
<header><h1>Harbour site</h1></header>
<nav><a href="/">Home</a> <a href="/about">About</a></nav>
<main><article><h2>Tides</h2><p>` + "Spring tides come twice a month. " + `%s</p><script>alert(1)</script></article></main>
<aside>Related: ferries</aside>
<footer>Copyright the Harbour Trust</footer></body></html>`

func TestSectionText(t *testing.T) {
	body := []byte(strings.Replace(sectionsPage, "%s", texttest.Words(5, 60), 1))
	h := http.Header{"Content-Type": {"text/html"}}
	u := mustURL(t, "http://harbour.example/tides")
	for _, tc := range []struct {
		sections []string
		html     bool
		want     []string
		not      []string
	}{
		{[]string{SectionBody}, false, []string{"Spring tides come twice a month."}, []string{"Home", "Copyright", "banner", "alert"}},
		{[]string{SectionNavigation, SectionFooter}, false, []string{"Home About", "Copyright the Harbour Trust"}, []string{"Spring tides", "Related"}},
		{[]string{SectionMetadata, SectionBanner, SectionHeader, SectionSidebar}, false,
			[]string{"title: Harbour\ndescription: All about the harbour", "Harbour Trust banner", "Harbour site", "Related: ferries"}, []string{"Spring tides", "tracking"}},
		{[]string{SectionBody}, true, []string{"<main><article><h2>Tides</h2><p>Spring tides"}, []string{"<script>", "<nav>"}},
		{[]string{SectionFooter}, true, []string{"<footer>Copyright the Harbour Trust</footer>"}, nil},
	} {
		got, err := SectionText(u, h, body, tc.sections, tc.html)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v (html %v): %q lacks %q", tc.sections, tc.html, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%v (html %v): %q holds %q", tc.sections, tc.html, got, n)
			}
		}
	}
	// Page order, whatever order they are asked in.
	got, _ := SectionText(u, h, body, []string{SectionFooter, SectionHeader}, false)
	if !strings.HasPrefix(got, "Harbour site") || !strings.HasSuffix(got, "Copyright the Harbour Trust") {
		t.Errorf("header and footer: %q, want the header first", got)
	}
	if _, err := SectionText(u, h, body, []string{"unspecified"}, false); err == nil || !strings.Contains(err.Error(), "the sections are metadata, banner") {
		t.Errorf("unknown section: %v", err)
	}
}
