package extract

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis/category"
)

// ErrNotPage is returned by Fetched, Stored and Archived for a response
// Cari does not index: not HTML or plain text, or marked noindex.
var ErrNotPage = errors.New("not an indexable page")

// ErrNoIndex is the ErrNotPage of a page marked noindex, whose Page still
// holds its links.
var ErrNoIndex = fmt.Errorf("%w: marked noindex", ErrNotPage)

// RobotsToken is the product token Cari answers to, in robots.txt and in
// X-Robots-Tag headers addressed to one crawler.
const RobotsToken = "Cari"

// acceptedTypes are the media types Cari extracts text from.
var acceptedTypes = map[string]bool{
	"text/html":             true,
	"application/xhtml+xml": true,
	"text/plain":            true,
}

// Accepts reports whether a response with this Content-Type may be a page:
// HTML, XHTML, plain text, or no media type at all, since such a body is
// sniffed. A crawler uses it to refuse a response from its headers, before
// reading the body.
func Accepts(contentType string) bool {
	mt := mediaType(contentType)
	return mt == "" || acceptedTypes[mt]
}

// Fetched extracts a page from a body as a crawl receives it from colly
// (its Document's Category decided from its URL, markup and text):
// already decoded to UTF-8 when the Content-Type header names a charset, in
// whatever charset otherwise (found from a byte order mark, <meta> or
// detection). The media type comes from header, sniffed when absent.
func Fetched(pageURL *url.URL, header http.Header, body []byte) (Page, error) {
	return response(pageURL, header, body, true)
}

// Stored extracts a page from a body as it was stored, in whatever
// character set, the way a crawl extracts a fetched page: the media type
// from header (sniffed when absent), the charset from header, a byte order
// mark, <meta> or detection, then Decoded. header may be nil.
func Stored(pageURL *url.URL, header http.Header, body []byte) (Page, error) {
	return response(pageURL, header, body, false)
}

// response is Fetched when decoded is set (a charset the header names has
// already been applied), Stored when not.
func response(pageURL *url.URL, header http.Header, body []byte, decoded bool) (Page, error) {
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
	if _, params, err := mime.ParseMediaType(header.Get("Content-Type")); err == nil && params["charset"] != "" && !decoded {
		body, _ = decodeWith(body, params["charset"])
	} else {
		body, _ = toUTF8(body, header.Get("Content-Type"), isHTML)
	}
	page, err := Decoded(pageURL, ct, body, header)
	if err != nil {
		return page, err
	}
	if page.NoIndex {
		return page, ErrNoIndex
	}
	// The category is decided here, where the page's markup is at hand; the
	// indexer decides it for a document without one from what a stored
	// document keeps (URL, title, text), which cannot see og:type or JSON-LD.
	page.Document.Category = category.Classify(category.Input{URL: page.Document.URL, Title: page.Document.Title,
		Text: page.Document.Text, ContentType: mediaType(ct), Markup: page.Types})
	return page, nil
}

// Archived turns an archived HTTP response (a WARC response record) into
// the document a crawl of rawURL at fetched would have made: canonical
// URL, ID from it, crawl time and content hash. body is the payload with
// its content and transfer encodings already removed.
func Archived(rawURL string, header http.Header, body []byte, fetched time.Time) (cari.Document, error) {
	canon, err := Canonicalize(rawURL)
	if err != nil {
		return cari.Document{}, fmt.Errorf("url %q: %w", rawURL, err)
	}
	u, err := url.Parse(canon)
	if err != nil {
		return cari.Document{}, fmt.Errorf("url %q: %w", rawURL, err)
	}
	page, err := Stored(u, header, body)
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
