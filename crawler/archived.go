package crawler

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/cari-search/cari"
)

// ErrNotPage is returned by ExtractBody and ExtractArchived for a response
// Cari does not index: not HTML or plain text, or marked noindex.
var ErrNotPage = errors.New("not an indexable page")

// ExtractBody extracts a page from a body as it was stored, in whatever
// character set, the way a crawl extracts a fetched page: the media type
// from header (sniffed when absent), the charset from header, a byte order
// mark, <meta> or detection, then Extract. header may be nil.
func ExtractBody(pageURL *url.URL, header http.Header, body []byte) (Page, error) {
	if header == nil {
		header = http.Header{}
	}
	ct := header.Get("Content-Type")
	if mediaType(ct) == "" {
		ct = http.DetectContentType(body)
	}
	if !acceptedTypes[mediaType(ct)] {
		return Page{}, fmt.Errorf("%w: media type %s", ErrNotPage, mediaType(ct))
	}
	isHTML := mediaType(ct) != "text/plain"
	// Unlike colly's bodies, a stored body is still in the charset its
	// header names.
	if _, params, err := mime.ParseMediaType(header.Get("Content-Type")); err == nil && params["charset"] != "" {
		body, _ = decodeWith(body, params["charset"])
	} else {
		body, _ = toUTF8(body, "", isHTML)
	}
	page, err := Extract(pageURL, ct, body, header)
	if err != nil {
		return page, err
	}
	if page.NoIndex {
		return page, fmt.Errorf("%w: marked noindex", ErrNotPage)
	}
	return page, nil
}

// ExtractArchived turns an archived HTTP response (a WARC response record)
// into the document a crawl of rawURL at fetched would have made: canonical
// URL, ID from it, crawl time and content hash. body is the payload with
// its content and transfer encodings already removed.
func ExtractArchived(rawURL string, header http.Header, body []byte, fetched time.Time) (cari.Document, error) {
	canon, err := Canonicalize(rawURL)
	if err != nil {
		return cari.Document{}, fmt.Errorf("url %q: %w", rawURL, err)
	}
	u, err := url.Parse(canon)
	if err != nil {
		return cari.Document{}, fmt.Errorf("url %q: %w", rawURL, err)
	}
	page, err := ExtractBody(u, header, body)
	if err != nil {
		return cari.Document{}, err
	}
	doc := page.Document
	doc.URL = canon
	doc.ID = cari.DocumentID(canon)
	doc.Crawled = fetched.UTC()
	doc.ContentHash = cari.ContentHash(doc.Text)
	return doc, nil
}
