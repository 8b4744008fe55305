// Package corpus reads the documents of a BEIR-layout test collection: corpus.jsonl, one
// JSON object {"_id", "title", "text"} per line, plain or gzip-compressed.
package corpus

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
)

// readBufferSize is the read buffer; lines longer than it are assembled from several reads.
const readBufferSize = 64 << 10

// MaxLineBytes is the longest line read; a longer one is skipped, unread, with a *LineError
// (ErrLineTooLong), so that a corpus of one endless line (a gzip bomb) cannot exhaust memory.
// It is far above what a document may hold (cari.MaxTextBytes, even JSON-escaped).
const MaxLineBytes = 64 << 20

// ErrLineTooLong is the cause of a skipped line longer than MaxLineBytes.
var ErrLineTooLong = fmt.Errorf("line is longer than %d MiB; skipped", MaxLineBytes>>20)

// gzipMagic starts every gzip stream.
var gzipMagic = []byte{0x1f, 0x8b}

// Document is one corpus record.
type Document struct {
	ID    string
	Title string
	Text  string
	// Language is the optional "language" key, a BCP 47 tag such as "en":
	// a document that declares its language is not run through detection.
	Language string
}

// Reader streams the documents of a corpus one line at a time, so memory stays bounded by
// the longest line whatever the corpus size. Lines may be of any length.
type Reader struct {
	lines *bufio.Reader
	gz    *gzip.Reader // nil for plain input
	file  *os.File     // set when Open opened it
	buf   []byte
	line  int
	err   error // sticky: a read failure ends the stream
}

// Open opens the corpus file at path. Whether it is gzip-compressed is decided by its first
// bytes, not its name, so corpus.jsonl.gz and corpus.jsonl are both read correctly whatever
// they hold. The caller must Close the reader.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open corpus: %w", err)
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open corpus %s: %w", path, err)
	}
	r.file = f
	return r, nil
}

// NewReader returns a reader of the corpus in src, gzip-compressed or not (detected from the
// gzip magic bytes). Close releases the decompressor but does not close src.
func NewReader(src io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(src, readBufferSize)
	magic, err := br.Peek(len(gzipMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read corpus start: %w", err)
	}
	r := &Reader{lines: br}
	if bytes.Equal(magic, gzipMagic) {
		r.gz, err = gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read gzip header: %w", err)
		}
		r.lines = bufio.NewReaderSize(r.gz, readBufferSize)
	}
	return r, nil
}

// Next returns the next document, skipping blank lines. At the end of the corpus it returns
// io.EOF. A malformed line yields a *LineError naming it; the reader stays usable and the
// next call goes on with the following line, so a caller can log the error and continue.
// Any other error (a failed read, corrupt gzip data) ends the stream and is returned again
// by every later call.
func (r *Reader) Next() (Document, error) {
	for r.err == nil {
		line, err := r.readLine()
		switch {
		case errors.Is(err, ErrLineTooLong):
			return Document{}, &LineError{Line: r.line, Err: err}
		case errors.Is(err, io.EOF):
			r.err = io.EOF // after the last line, which may lack its newline
		case err != nil:
			r.err = fmt.Errorf("read corpus after line %d: %w", r.line, err)
			return Document{}, r.err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		doc, err := parseDocument(line)
		if err != nil {
			return Document{}, &LineError{Line: r.line, Err: err}
		}
		return doc, nil
	}
	return Document{}, r.err
}

// All returns an iterator over the remaining documents for use with range. It yields each
// malformed line's *LineError with an empty Document and goes on; it stops after yielding
// any other error, and at the end of the corpus without yielding io.EOF.
func (r *Reader) All() iter.Seq2[Document, error] {
	return func(yield func(Document, error) bool) {
		for {
			doc, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(doc, err) {
				return
			}
			var lineErr *LineError
			if err != nil && !errors.As(err, &lineErr) {
				return
			}
		}
	}
}

// Line returns the number of lines read so far, blank ones included: the line number of the
// document or LineError that Next last returned.
func (r *Reader) Line() int {
	return r.line
}

// Close releases the decompressor and, for a reader from Open, closes the file.
func (r *Reader) Close() error {
	var errs []error
	if r.gz != nil {
		errs = append(errs, r.gz.Close())
	}
	if r.file != nil {
		errs = append(errs, r.file.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close corpus: %w", err)
	}
	return nil
}

// readLine returns the next line without its length limit, including its newline. The slice
// is valid until the next call. At the end of input it returns the last, unterminated line, if
// any, with io.EOF.
func (r *Reader) readLine() ([]byte, error) {
	r.buf = r.buf[:0]
	tooLong := false
	for {
		chunk, err := r.lines.ReadSlice('\n')
		if !tooLong && len(r.buf)+len(chunk) > MaxLineBytes {
			tooLong, r.buf = true, r.buf[:0]
		}
		if tooLong {
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			r.line++
			if errors.Is(err, io.EOF) {
				r.err = io.EOF
			}
			return nil, ErrLineTooLong
		}
		r.buf = append(r.buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == nil || errors.Is(err, io.EOF) && len(r.buf) > 0 {
			r.line++
		}
		return r.buf, err
	}
}
