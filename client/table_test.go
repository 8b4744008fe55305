package client

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"

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

// TestWriteTableWideCharacters: titles and texts in Chinese and Japanese
// (two terminal columns a character) and with combining accents (none)
// neither shift the URL column nor overflow their width limits.
func TestWriteTableWideCharacters(t *testing.T) {
	text := func(s string) *string { return &s }
	combining := "Re\u0301sume\u0301 of cafe\u0301 studies" // e + U+0301 COMBINING ACUTE ACCENT
	resp := &cariv1.SearchResponse{Results: []*cariv1.Result{
		{Id: "1", Title: "Short", Url: "https://a.example/1", Score: 3},
		{Id: "2", Title: "维生素D缺乏与骨质疏松症的关系", Url: "https://a.example/2", Score: 2.5, Text: text(strings.Repeat("东京大学の研究", 40))},
		{Id: "3", Title: "ビタミンDの欠乏と骨粗鬆症", Url: "https://a.example/3", Score: 2},
		{Id: "4", Title: combining, Url: "https://a.example/4", Score: 1},
		{Id: "5", Title: strings.Repeat("長い題名", 30), Url: "https://a.example/5", Score: 0.5},
	}}
	var buf bytes.Buffer
	if err := WriteTable(&buf, resp); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	// The column a terminal shows s[i:] at.
	column := func(s string, i int) int { return runewidth.StringWidth(s[:i]) }
	col := column(lines[0], strings.Index(lines[0], "URL"))
	for _, l := range lines[1 : len(lines)-1] {
		if strings.HasPrefix(l, "      ") {
			if w := runewidth.StringWidth(l); w > 6+textColumns {
				t.Errorf("text line %d columns wide, want at most %d: %q", w, 6+textColumns, l)
			}
			continue
		}
		if i := strings.Index(l, "https://"); column(l, i) != col {
			t.Errorf("row %q: URL at column %d, want %d (the header's):\n%s", l, column(l, i), col, buf.String())
		}
	}
	if !strings.Contains(buf.String(), combining) {
		t.Errorf("the title with combining accents was changed:\n%s", buf.String())
	}
	// The long title is cut to the title's width, the last column "…".
	long := lines[len(lines)-2]
	title := strings.TrimSpace(long[strings.Index(long, "長"):strings.Index(long, "https://")])
	if w := runewidth.StringWidth(title); w > titleColumns || !strings.HasSuffix(title, "…") {
		t.Errorf("long title cut to %q, %d columns; want at most %d ending in …", title, w, titleColumns)
	}
}

// TestWriteTableCollections: results from several collections show each
// one's collection before its ID; results from one show the ID alone.
func TestWriteTableCollections(t *testing.T) {
	for _, c := range []struct {
		results []*cariv1.Result
		want    []string
	}{
		{[]*cariv1.Result{{Id: "1", Collection: "kb"}, {Id: "2", Collection: "news"}}, []string{"kb/1", "news/2"}},
		{[]*cariv1.Result{{Id: "1", Collection: "kb"}, {Id: "2", Collection: "kb"}}, []string{" 1 ", " 2 "}},
	} {
		var buf bytes.Buffer
		if err := WriteTable(&buf, &cariv1.SearchResponse{Results: c.results}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(buf.String(), "\n")
		for i, want := range c.want {
			if !strings.Contains(lines[i+1], want) || (len(want) == 3 && strings.Contains(lines[i+1], "/")) {
				t.Errorf("row %d %q, want %q", i+1, lines[i+1], want)
			}
		}
	}
}

// TestInCollections: one name goes in collection, several (comma
// separated) in collections.
func TestInCollections(t *testing.T) {
	req := &cariv1.SearchRequest{}
	InCollections(req, "kb")
	if req.GetCollection() != "kb" || req.Collections != nil {
		t.Errorf("kb: %v", req)
	}
	InCollections(req, "kb, news")
	if req.GetCollection() != "" || strings.Join(req.GetCollections(), "|") != "kb|news" {
		t.Errorf("kb, news: %v", req)
	}
}
