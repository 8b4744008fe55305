package reindex

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httputil"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nlnwa/gowarc/v3"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/extract"
)

// maxWARCPayload bounds the body read from one response record; a bigger
// one is a failed record ("too_large"), as the crawler would not fetch it.
const maxWARCPayload = 32 << 20

// lenient reads WARC files as they come from crawlers: HTTP blocks are
// parsed, but syntax slips, spec violations, unknown record types and
// digest mismatches are passed over rather than failing the file.
var lenient = []gowarc.WarcRecordOption{
	gowarc.WithSyntaxErrorPolicy(gowarc.ErrIgnore),
	gowarc.WithSpecViolationPolicy(gowarc.ErrIgnore),
	gowarc.WithUnknownRecordTypePolicy(gowarc.ErrIgnore),
	gowarc.WithBlockErrorPolicy(gowarc.ErrIgnore),
}

// warcSource reads the response records of WARC files (.warc or .warc.gz,
// as Common Crawl publishes them), in file name order.
type warcSource struct {
	pattern string
	files   []string
	file    int
	r       *gowarc.WarcFileReader
}

// OpenWARC opens the WARC files pattern names: one path or a glob. Each
// HTTP response record becomes one record of the source; requests,
// metadata and other records are passed over. A response that is not a
// 2xx HTML or plain-text page counts as skipped.
func OpenWARC(pattern string) (Source, error) {
	abs, err := filepath.Abs(pattern)
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(abs)
	if err != nil {
		return nil, fmt.Errorf("warc: bad pattern %q: %w", pattern, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("warc: no file matches %q: %w", pattern, fs.ErrNotExist)
	}
	slices.Sort(files)
	return &warcSource{pattern: abs, files: files}, nil
}

func (s *warcSource) Describe() string { return "warc:" + s.pattern }
func (s *warcSource) Total() int64     { return -1 }

func (s *warcSource) Close() error {
	if s.r == nil {
		return nil
	}
	return s.r.Close()
}

func (s *warcSource) Next() (Item, error) {
	for {
		if s.r == nil {
			if s.file == len(s.files) {
				return Item{}, io.EOF
			}
			r, err := gowarc.NewWarcFileReader(s.files[s.file], 0, lenient...)
			if err != nil {
				return Item{}, fmt.Errorf("open %s: %w", s.files[s.file], err)
			}
			s.r = r
		}
		rec, err := s.r.Next()
		if errors.Is(err, io.EOF) {
			s.r.Close()
			s.r = nil
			s.file++
			continue
		}
		if err != nil {
			return Item{}, fmt.Errorf("%s: %w", s.files[s.file], err)
		}
		item, ok := s.item(rec)
		rec.Close()
		if ok {
			return item, nil
		}
	}
}

// item reads a response record's payload; other records are passed over.
func (s *warcSource) item(rec gowarc.Record) (Item, bool) {
	wr := rec.WarcRecord
	if wr == nil || wr.Type() != gowarc.Response {
		return Item{}, false
	}
	where := fmt.Sprintf("%s record at offset %d", s.files[s.file], rec.Offset)
	// WARC 1.0 writers such as Wget put the URI in angle brackets.
	target := strings.TrimSuffix(strings.TrimPrefix(wr.WarcHeader().Get(gowarc.WarcTargetURI), "<"), ">")
	fail := func(reason string, err error) (Item, bool) {
		return Item{Where: where, Document: func() (cari.Document, error) {
			return cari.Document{}, &RecordError{Reason: reason, Err: err}
		}}, true
	}
	block, ok := wr.Block().(gowarc.HttpResponseBlock)
	if !ok {
		return fail("read", fmt.Errorf("response record for %s holds no HTTP response", target))
	}
	if code := block.HttpStatusCode(); code < 200 || code > 299 {
		return Item{Where: where, Document: func() (cari.Document, error) {
			return cari.Document{}, fmt.Errorf("%w: HTTP status %d", ErrSkip, code)
		}}, true
	}
	header := http.Header{}
	if h := block.HttpHeader(); h != nil {
		header = h.Clone()
	}
	payload, err := block.PayloadBytes()
	if err != nil {
		return fail("read", err)
	}
	body, err := io.ReadAll(io.LimitReader(payload, maxWARCPayload+1))
	if err != nil {
		return fail("read", err)
	}
	if len(body) > maxWARCPayload {
		return fail("too_large", fmt.Errorf("payload of %s is over %d bytes", target, maxWARCPayload))
	}
	fetched, _ := wr.Date()
	return Item{Where: where, Document: func() (cari.Document, error) {
		return archivedDocument(target, header, body, fetched)
	}}, true
}

// archivedDocument removes the transfer and content encodings of an
// archived response and extracts its page.
func archivedDocument(target string, header http.Header, body []byte, fetched time.Time) (cari.Document, error) {
	body, err := decodeBody(header, body)
	if err != nil {
		return cari.Document{}, &RecordError{Reason: "encoding", Err: fmt.Errorf("%s: %w", target, err)}
	}
	doc, err := extract.Archived(target, header, body, fetched)
	switch {
	case errors.Is(err, extract.ErrNotPage):
		return doc, fmt.Errorf("%w: %v", ErrSkip, err)
	case errors.Is(err, extract.ErrNotHTTP):
		return doc, &RecordError{Reason: "url", Err: err}
	case err != nil:
		return doc, &RecordError{Reason: "extract", Err: fmt.Errorf("%s: %w", target, err)}
	}
	return doc, nil
}

// decodeBody undoes chunked transfer coding (archives that keep it) and
// gzip, x-gzip or deflate content coding; the headers then describe the
// decoded body.
func decodeBody(header http.Header, body []byte) ([]byte, error) {
	if strings.EqualFold(strings.TrimSpace(header.Get("Transfer-Encoding")), "chunked") {
		b, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(body)))
		if err != nil {
			return nil, fmt.Errorf("chunked transfer coding: %w", err)
		}
		body = b
		header.Del("Transfer-Encoding")
	}
	codings := strings.Split(header.Get("Content-Encoding"), ",")
	for i := len(codings) - 1; i >= 0; i-- {
		var r io.Reader
		var err error
		switch c := strings.ToLower(strings.TrimSpace(codings[i])); c {
		case "", "identity":
			continue
		case "gzip", "x-gzip":
			r, err = gzip.NewReader(bytes.NewReader(body))
		case "deflate":
			// "deflate" means zlib-wrapped, but some servers send raw
			// DEFLATE.
			r, err = zlib.NewReader(bytes.NewReader(body))
			if err != nil {
				r, err = flate.NewReader(bytes.NewReader(body)), nil
			}
		default:
			return nil, fmt.Errorf("content coding %q is not supported", c)
		}
		if err != nil {
			return nil, fmt.Errorf("content coding %s: %w", codings[i], err)
		}
		b, err := io.ReadAll(io.LimitReader(r, maxWARCPayload+1))
		if err != nil {
			return nil, fmt.Errorf("content coding %s: %w", codings[i], err)
		}
		if len(b) > maxWARCPayload {
			return nil, fmt.Errorf("decoded body is over %d bytes", maxWARCPayload)
		}
		body = b
	}
	header.Del("Content-Encoding")
	return body, nil
}
