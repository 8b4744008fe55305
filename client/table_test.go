package client

import (
	"bytes"
	"strings"
	"testing"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// TestWriteTableAligned: with texts (cari search --text), every row's URL
// starts in the same column, and a text's newlines stay inside its line.
func TestWriteTableAligned(t *testing.T) {
	text := func(s string) *string { return &s }
	resp := &cariv1.SearchResponse{Results: []*cariv1.Result{
		{Id: "1", Title: "Short", Url: "https://a.example/1", Score: 3, Text: text("first line\nsecond line")},
		{Id: "22", Title: "A much longer title\nover two lines", Url: "https://a.example/22", Score: 2.5, Text: text("x")},
		{Id: "333", Title: "Mid title", Url: "https://a.example/333", Score: 1, Text: text("tab\tand more")},
	}}
	var buf bytes.Buffer
	if err := WriteTable(&buf, resp); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1+2*3+1 {
		t.Fatalf("want a header, 3 rows with a text line each and totals, got %d lines:\n%s", len(lines), buf.String())
	}
	col := strings.Index(lines[0], "URL")
	for _, i := range []int{1, 3, 5} {
		if got := strings.Index(lines[i], "https://"); got != col {
			t.Errorf("row %q: URL at column %d, want %d (the header's):\n%s", lines[i], got, col, buf.String())
		}
	}
	for _, i := range []int{2, 4, 6} {
		if !strings.HasPrefix(lines[i], "      ") || strings.Contains(lines[i], "\t") {
			t.Errorf("text line %q: want it indented by six spaces, without tabs", lines[i])
		}
	}
	if !strings.Contains(lines[3], "A much longer title over two lines") {
		t.Errorf("title's newline not joined: %q", lines[3])
	}
}
