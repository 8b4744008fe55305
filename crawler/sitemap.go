package crawler

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Sitemap limits, from the sitemaps.org protocol: 50,000 URLs and 50 MB
// (uncompressed) per file. Cari reads at most maxSitemapsPerHost files per
// host, following sitemap indexes one level down.
const (
	maxSitemapURLs     = 50000
	maxSitemapBytes    = 50 << 20
	maxSitemapsPerHost = 20
)

// parseSitemap reads a sitemap (a <urlset>) or a sitemap index (a
// <sitemapindex>), gzip-compressed or not, and returns the <loc> values:
// page URLs for a urlset, sitemap URLs for an index.
func parseSitemap(r io.Reader) (locs []string, index bool, err error) {
	br := bufio.NewReader(io.LimitReader(r, maxSitemapBytes))
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, false, err
		}
		defer zr.Close()
		br = bufio.NewReader(io.LimitReader(zr, maxSitemapBytes))
	}
	dec := xml.NewDecoder(br)
	dec.Strict = false
	dec.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	root := ""
	inLoc := false
	var loc strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if len(locs) > 0 {
				return locs, index, nil // keep what a truncated file gave
			}
			return nil, false, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = t.Name.Local
				if root != "urlset" && root != "sitemapindex" {
					return nil, false, errors.New("not a sitemap: root element <" + root + ">")
				}
				index = root == "sitemapindex"
			}
			if t.Name.Local == "loc" {
				inLoc = true
				loc.Reset()
			}
		case xml.CharData:
			if inLoc {
				loc.Write(t)
			}
		case xml.EndElement:
			if t.Name.Local == "loc" && inLoc {
				inLoc = false
				if s := strings.TrimSpace(loc.String()); s != "" {
					locs = append(locs, s)
					if len(locs) >= maxSitemapURLs {
						return locs, index, nil
					}
				}
			}
		}
	}
	return locs, index, nil
}

// fetchSitemap reads one sitemap file. Errors and non-200 answers give
// nothing: a sitemap only helps discovery.
func (c *Crawler) fetchSitemap(ctx context.Context, sitemapURL string) (locs []string, index bool) {
	ctx = context.WithValue(ctx, followRedirectsKey{}, 5)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sitemapURL, nil)
	if err != nil {
		return nil, false
	}
	req.Header.Set("User-Agent", c.opts.userAgent())
	resp, err := c.client.Do(req)
	if err != nil {
		c.log.Debug("sitemap not fetched", "url", sitemapURL, "error", err)
		return nil, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.log.Debug("no sitemap", "url", sitemapURL, "status", resp.StatusCode)
		return nil, false
	}
	locs, index, err = parseSitemap(resp.Body)
	if err != nil {
		c.log.Info("sitemap unreadable", "url", sitemapURL, "error", err)
		return nil, false
	}
	return locs, index
}
