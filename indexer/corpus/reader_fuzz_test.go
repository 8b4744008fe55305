package corpus

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReader reads arbitrary bytes, plain and gzip-compressed, as a corpus.
// Every record is a document with an ID, a malformed line's *LineError
// naming its line, or a final read error; the reader never panics and
// always ends. Seeds are in testdata/fuzz/FuzzReader.
func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"_id": "a", "title": "T", "text": "x"}`+"\n"+`{"_id": 1}`+"\nnot json\n\n"+`{"_id": "b", "text": "\u0000nul"}`), false)
	f.Add([]byte("{\"_id\": \"\xff\xfe\", \"text\": \"bad utf8 \xc3\x28\"}\n"), true)
	f.Add([]byte(`{"_id": "deep", "text": `+string(bytes.Repeat([]byte("["), 10000))+"\n"), false)
	f.Add([]byte{0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 0x01, 0x02}, false)
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		if compress {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(data)
			zw.Close()
			data = b.Bytes()
		}
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		defer r.Close()
		lastLine := 0
		for n := 0; ; n++ {
			if n > len(data)+1 {
				t.Fatalf("more records (%d) than input bytes (%d)", n, len(data))
			}
			doc, err := r.Next()
			var le *LineError
			switch {
			case errors.Is(err, io.EOF):
				return
			case errors.As(err, &le):
				if le.Line <= lastLine {
					t.Fatalf("line error at line %d after line %d", le.Line, lastLine)
				}
				lastLine = le.Line
			case err != nil:
				return // a read error ends the stream
			default:
				if doc.ID == "" {
					t.Fatalf("document without an ID from line %d", r.Line())
				}
				if !utf8.ValidString(doc.ID) || !utf8.ValidString(doc.Title) || !utf8.ValidString(doc.Text) {
					t.Fatalf("document %q from line %d holds invalid UTF-8", doc.ID, r.Line())
				}
				lastLine = r.Line()
			}
		}
	})
}

// TestReaderGzipBomb reads a small gzip file that inflates to one line
// longer than MaxLineBytes between two good lines: the long line is skipped
// with ErrLineTooLong, unbuffered, and the next line is read.
func TestReaderGzipBomb(t *testing.T) {
	var b bytes.Buffer
	// BestSpeed compresses the run of zeros nearly as small, several
	// times faster.
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	zw.Write([]byte(`{"_id": "before", "text": "x"}` + "\n" + `{"_id": "bomb", "text": "`))
	zeros := bytes.Repeat([]byte("0"), 1<<20)
	for range MaxLineBytes>>20 + 1 {
		zw.Write(zeros)
	}
	zw.Write([]byte("\"}\n" + `{"_id": "after", "text": "y"}` + "\n"))
	zw.Close()
	if b.Len() > 1<<20 {
		t.Fatalf("the bomb is %d bytes compressed; it should be small", b.Len())
	}
	r, err := NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for doc, err := range r.All() {
		switch {
		case errors.Is(err, ErrLineTooLong):
			var le *LineError
			if !errors.As(err, &le) || le.Line != 2 {
				t.Errorf("error %v, want a *LineError for line 2", err)
			}
			got = append(got, "skipped")
		case err != nil:
			t.Fatalf("unexpected error: %v", err)
		default:
			got = append(got, doc.ID)
		}
	}
	if want := "before skipped after"; strings.Join(got, " ") != want {
		t.Errorf("read %q, want %q", got, want)
	}
}
