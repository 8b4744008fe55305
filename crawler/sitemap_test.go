package crawler

import (
	"bytes"
	"compress/gzip"
	"slices"
	"strings"
	"testing"
)

func TestParseSitemap(t *testing.T) {
	urlset := `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc> https://example.com/a </loc><lastmod>2025-01-01</lastmod></url>
  <url><loc>https://example.com/b?x=1&amp;y=2</loc></url>
</urlset>`
	locs, index, err := parseSitemap(strings.NewReader(urlset))
	if err != nil || index || !slices.Equal(locs, []string{"https://example.com/a", "https://example.com/b?x=1&y=2"}) {
		t.Errorf("urlset: %q index %v err %v", locs, index, err)
	}

	idx := `<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://example.com/s1.xml.gz</loc></sitemap></sitemapindex>`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(idx))
	zw.Close()
	locs, index, err = parseSitemap(&gz)
	if err != nil || !index || !slices.Equal(locs, []string{"https://example.com/s1.xml.gz"}) {
		t.Errorf("gzipped index: %q index %v err %v", locs, index, err)
	}

	if _, _, err := parseSitemap(strings.NewReader("<html><body>not a sitemap</body></html>")); err == nil {
		t.Error("an HTML page parsed as a sitemap")
	}
}
