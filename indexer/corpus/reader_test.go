package corpus

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// errBadJSON stands, in the tables below, for any encoding/json syntax error.
var errBadJSON = errors.New("bad json")

// outcome is what one call of Next should give: a document, or a LineError for a line.
type outcome struct {
	doc   Document
	line  int
	cause error // nil for a document
}

func TestReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []outcome
	}{
		{
			name: "good lines",
			in: `{"_id": "1", "title": "T", "text": "body"}` + "\n" +
				`{"_id":"2","text":"caf\u00e9\nnext","extra":{"a":[1]}}` + "\r\n" +
				`{"_id": "3", "title": "only title"}` + "\n" +
				`{"_id": "4", "text": "halo", "language": "id"}`,
			want: []outcome{
				{doc: Document{"1", "T", "body", ""}},
				{doc: Document{"2", "", "café\nnext", ""}},
				{doc: Document{"3", "only title", "", ""}},
				{doc: Document{"4", "", "halo", "id"}},
			},
		},
		{
			name: "blank and whitespace lines skipped but counted",
			in:   "\n\n" + `{"_id": "a"}` + "\n  \t\r\n\n" + `{"_id": "b"}` + "\n\nbad\n\n",
			want: []outcome{{doc: Document{ID: "a"}}, {doc: Document{ID: "b"}}, {line: 8, cause: errBadJSON}},
		},
		{name: "empty input", in: ""},
		{
			name: "bad lines reported and skipped",
			in: strings.Join([]string{
				`{"_id": "ok1", "text": "a"}`,
				`{"_id": "x", "text": "unterminated`,
				`{"title": "no id"}`,
				`{"_id": "", "text": "a"}`,
				`{"_id": 42, "text": "a"}`,
				`{"_id": null}`,
				`{"_ID": "wrong case"}`,
				`{"_id": "x", "title": 3}`,
				`{"_id": "x", "text": null}`,
				`{"_id": "x", "text": ["a"]}`,
				`{"_id": "x", "language": 1}`,
				`[1, 2]`,
				`null`,
				`"just a string"`,
				`{"_id": "x"} trailing`,
				`{"_id": "ok2", "text": "b"}`,
			}, "\n"),
			want: []outcome{
				{doc: Document{ID: "ok1", Text: "a"}},
				{line: 2, cause: errBadJSON},
				{line: 3, cause: ErrMissingID},
				{line: 4, cause: ErrEmptyID},
				{line: 5, cause: ErrNotString},
				{line: 6, cause: ErrNotString},
				{line: 7, cause: ErrMissingID},
				{line: 8, cause: ErrNotString},
				{line: 9, cause: ErrNotString},
				{line: 10, cause: ErrNotString},
				{line: 11, cause: ErrNotString},
				{line: 12, cause: ErrNotObject},
				{line: 13, cause: ErrNotObject},
				{line: 14, cause: ErrNotObject},
				{line: 15, cause: errBadJSON},
				{doc: Document{ID: "ok2", Text: "b"}},
			},
		},
		{
			name: "bad last line without newline",
			in:   `{"_id": "1"}` + "\n" + `{"_id": `,
			want: []outcome{{doc: Document{ID: "1"}}, {line: 2, cause: errBadJSON}},
		},
	}
	for _, tt := range tests {
		for _, compressed := range []bool{false, true} {
			name := tt.name + "/plain"
			if compressed {
				name = tt.name + "/gzip"
			}
			t.Run(name, func(t *testing.T) {
				input := []byte(tt.in)
				if compressed {
					input = gzipBytes(t, input)
				}
				r, err := NewReader(bytes.NewReader(input))
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				for i, want := range tt.want {
					doc, err := r.Next()
					checkOutcome(t, i, doc, err, want)
				}
				for range 2 {
					if doc, err := r.Next(); err != io.EOF {
						t.Fatalf("after the last outcome: Next = %+v, %v; want io.EOF", doc, err)
					}
				}
			})
		}
	}
}

// checkOutcome fails t when the i-th Next result doc, err is not want.
func checkOutcome(t *testing.T, i int, doc Document, err error, want outcome) {
	t.Helper()
	if want.cause == nil {
		if err != nil || doc != want.doc {
			t.Fatalf("result %d: got %+v, %v; want %+v", i, doc, err, want.doc)
		}
		return
	}
	var lineErr *LineError
	if !errors.As(err, &lineErr) {
		t.Fatalf("result %d: got %+v, %v; want a *LineError", i, doc, err)
	}
	if lineErr.Line != want.line {
		t.Errorf("result %d: error on line %d, want line %d (%v)", i, lineErr.Line, want.line, err)
	}
	var syntaxErr *json.SyntaxError
	if want.cause == errBadJSON && !errors.As(err, &syntaxErr) || want.cause != errBadJSON && !errors.Is(err, want.cause) {
		t.Errorf("result %d: error %v, want cause %v", i, err, want.cause)
	}
	if !strings.HasPrefix(err.Error(), "corpus line ") {
		t.Errorf("result %d: error %q does not name its line", i, err)
	}
}

func TestReaderLongLine(t *testing.T) {
	long := strings.Repeat("long text ", 1<<20) // 10 MiB
	in := []byte(`{"_id": "a", "text": "short"}` + "\n" +
		`{"_id": "b", "title": "big", "text": "` + long + `"}` + "\n" +
		`{"_id": "c", "text": "after"}` + "\n")
	for _, compressed := range []bool{false, true} {
		input := in
		if compressed {
			input = gzipBytes(t, in)
		}
		r, err := NewReader(bytes.NewReader(input))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for doc, err := range r.All() {
			if err != nil {
				t.Fatalf("gzip=%v: %v", compressed, err)
			}
			if doc.ID == "b" && doc.Text != long {
				t.Errorf("gzip=%v: long text has %d bytes, want %d", compressed, len(doc.Text), len(long))
			}
			ids = append(ids, doc.ID)
		}
		if strings.Join(ids, ",") != "a,b,c" {
			t.Errorf("gzip=%v: read %q, want a, b, c", compressed, ids)
		}
		if r.Line() != 3 {
			t.Errorf("gzip=%v: Line = %d after the end, want 3", compressed, r.Line())
		}
	}
}

func TestOpenDetectsGzipByContent(t *testing.T) {
	dir := t.TempDir()
	plain := []byte(`{"_id": "p", "text": "plain"}` + "\n")
	files := map[string][]byte{
		"gzip-named-plain.jsonl":    gzipBytes(t, plain),
		"plain-named-gzip.jsonl.gz": plain,
		"tiny.jsonl":                []byte(`{"_id": "t"}`)[:1], // shorter than the magic
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"gzip-named-plain.jsonl", "plain-named-gzip.jsonl.gz"} {
		r, err := Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := r.Next()
		if err != nil || doc.ID != "p" {
			t.Errorf("%s: Next = %+v, %v; want document p", name, doc, err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: Close: %v", name, err)
		}
	}
	r, err := Open(filepath.Join(dir, "tiny.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var lineErr *LineError
	if _, err := r.Next(); !errors.As(err, &lineErr) || lineErr.Line != 1 {
		t.Errorf("one-byte corpus: err = %v, want a LineError on line 1", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.jsonl")); err == nil {
		t.Error("Open of a missing file: want error")
	}
}

func TestReaderFatalErrors(t *testing.T) {
	errBroken := errors.New("disk on fire")
	good := `{"_id": "1"}` + "\n"
	truncated := truncatedGzip(t, []byte(good), []byte(strings.Repeat(`{"_id": "2"}`+"\n", 1000)))
	tests := []struct {
		name  string
		src   io.Reader
		cause error
	}{
		{"read failure", io.MultiReader(strings.NewReader(good+`{"_id": "2"`), iotest.ErrReader(errBroken)), errBroken},
		{"truncated gzip", bytes.NewReader(truncated), io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if doc, err := r.Next(); err != nil || doc.ID != "1" {
				t.Fatalf("first Next = %+v, %v; want document 1", doc, err)
			}
			var err1 error
			for err1 == nil {
				_, err1 = r.Next()
			}
			var lineErr *LineError
			if !errors.Is(err1, tt.cause) || errors.As(err1, &lineErr) {
				t.Fatalf("err = %v, want a fatal error wrapping %v", err1, tt.cause)
			}
			if _, err2 := r.Next(); err2 != err1 {
				t.Errorf("Next after a fatal error = %v, want the same error again", err2)
			}
		})
	}
	if _, err := NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0})); err == nil {
		t.Error("NewReader of a corrupt gzip header: want error")
	}
}

func TestAllContinuesPastLineErrorsAndStops(t *testing.T) {
	in := `{"_id": "1"}` + "\nnot json\n" + `{"_id": "2"}` + "\n" + `{"_id": "3"}` + "\n"
	r, err := NewReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	var badLines []int
	for doc, err := range r.All() {
		var lineErr *LineError
		switch {
		case errors.As(err, &lineErr):
			badLines = append(badLines, lineErr.Line)
			continue
		case err != nil:
			t.Fatal(err)
		}
		ids = append(ids, doc.ID)
		if doc.ID == "2" {
			break
		}
	}
	if strings.Join(ids, ",") != "1,2" || len(badLines) != 1 || badLines[0] != 2 {
		t.Errorf("ids %q, bad lines %v; want 1,2 and [2]", ids, badLines)
	}
	if doc, err := r.Next(); err != nil || doc.ID != "3" {
		t.Errorf("Next after breaking out of All = %+v, %v; want document 3", doc, err)
	}
}

func TestSciFactCorpus(t *testing.T) {
	path := sciFactPath(t)
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ids := make(map[string]bool)
	for doc, err := range r.All() {
		if err != nil {
			t.Fatal(err)
		}
		if ids[doc.ID] {
			t.Errorf("document %s read twice", doc.ID)
		}
		ids[doc.ID] = true
		if doc.Text == "" && doc.Title == "" {
			t.Errorf("document %s is empty", doc.ID)
		}
	}
	if len(ids) != 5183 {
		t.Errorf("read %d scifact documents, want 5183", len(ids))
	}
}

func BenchmarkReaderSciFact(b *testing.B) {
	path := sciFactPath(b)
	var docs int
	for b.Loop() {
		r, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range r.All() {
			if err != nil {
				b.Fatal(err)
			}
			docs++
		}
		r.Close()
	}
	b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "docs/s")
}

// sciFactPath returns the shared scifact corpus, beside the repository root, or skips.
func sciFactPath(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			tb.Skip("no go.mod above the working directory")
		}
		dir = filepath.Dir(dir)
	}
	path := filepath.Join(dir, "..", "shared", "datasets", "scifact", "corpus.jsonl.gz")
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("scifact corpus not available: %v", err)
	}
	return path
}

// truncatedGzip compresses first, flushes so that it can be read back alone, compresses rest
// and cuts the stream short in the middle of rest.
func truncatedGzip(t *testing.T, first, rest []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(first); err != nil {
		t.Fatal(err)
	}
	if err := zw.Flush(); err != nil {
		t.Fatal(err)
	}
	flushed := buf.Len()
	if _, err := zw.Write(rest); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()[:flushed+(buf.Len()-flushed)/2]
}

// gzipBytes compresses data.
func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
