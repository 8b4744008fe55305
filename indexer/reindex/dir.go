package reindex

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/extract"
)

// dirSource reads the HTML, text and Markdown files under a directory, in
// lexical order of their paths.
type dirSource struct {
	root  string
	files []string // relative, slash-separated
	next  int
}

// maxDirFile bounds the size of one file read from a directory.
const maxDirFile = 32 << 20

// OpenDir opens the directory root. Every regular file under it is one
// record: .html, .htm and .xhtml files are extracted as crawled pages are;
// .txt, .text, .md and .markdown files are taken as they are, their first
// line the title; other files count as skipped. A document's ID is its
// path relative to root.
func OpenDir(root string) (Source, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	s := &dirSource{root: abs}
	err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(abs, path)
			if err != nil {
				return err
			}
			s.files = append(s.files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	return s, nil
}

func (s *dirSource) Describe() string { return "dir:" + s.root }
func (s *dirSource) Total() int64     { return int64(len(s.files)) }
func (s *dirSource) Close() error     { return nil }

func (s *dirSource) Next() (Item, error) {
	if s.next == len(s.files) {
		return Item{}, io.EOF
	}
	rel := s.files[s.next]
	s.next++
	path := filepath.Join(s.root, filepath.FromSlash(rel))
	return Item{Where: path, Document: func() (cari.Document, error) { return fileDocument(path, rel) }}, nil
}

// fileDocument reads one file of a directory source.
func fileDocument(path, rel string) (cari.Document, error) {
	var contentType string
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm", ".xhtml":
		contentType = "text/html"
	case ".txt", ".text", ".md", ".markdown":
		contentType = "text/plain"
	default:
		return cari.Document{}, fmt.Errorf("%w: %s is not HTML, text or Markdown", ErrSkip, rel)
	}
	info, err := os.Stat(path)
	if err != nil {
		return cari.Document{}, &RecordError{Reason: "read", Err: err}
	}
	if info.Size() > maxDirFile {
		return cari.Document{}, &RecordError{Reason: "too_large", Err: fmt.Errorf("%s is %d bytes, over %d", path, info.Size(), maxDirFile)}
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return cari.Document{}, &RecordError{Reason: "read", Err: err}
	}
	fileURL := &url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	page, err := extract.Stored(fileURL, http.Header{"Content-Type": {contentType}}, body)
	switch {
	case errors.Is(err, extract.ErrNotPage):
		return cari.Document{}, fmt.Errorf("%w: %v", ErrSkip, err)
	case errors.Is(err, extract.ErrNoContent):
		return cari.Document{}, &RecordError{Reason: "empty", Err: fmt.Errorf("%s: %w", path, err)}
	case err != nil:
		return cari.Document{}, &RecordError{Reason: "extract", Err: fmt.Errorf("%s: %w", path, err)}
	}
	doc := page.Document
	// A file has no web address: its ID is its place in the directory.
	doc.URL, doc.Domain = "", ""
	doc.ID = rel
	if len(doc.ID) > cari.MaxIDBytes {
		doc.ID = cari.DocumentID(rel)
	}
	if contentType == "text/plain" {
		doc.Title = strings.TrimSpace(strings.TrimLeft(doc.Title, "#"))
	}
	doc.Crawled = info.ModTime().UTC().Truncate(time.Second)
	doc.ContentHash = cari.ContentHash(doc.Text)
	return doc, nil
}
