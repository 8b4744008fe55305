package client

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/cari-search/cari"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// Widths of the table's clipped cells, in characters.
const (
	titleChars = 60
	textChars  = 200
)

// WriteTable writes resp as cari search prints it: a row a result (rank,
// score, id, title, URL), under it the result's text when the response
// has one, and a line of totals. Titles and texts are put on one line, so
// that a newline in a document cannot break the table.
func WriteTable(w io.Writer, resp *cariv1.SearchResponse) error {
	// The rows are aligned alone and the texts put between them after: a
	// line without the rows' cells would end tabwriter's column blocks,
	// and the rows after it would be aligned apart.
	var rows bytes.Buffer
	tw := tabwriter.NewWriter(&rows, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tSCORE\tID\tTITLE\tURL")
	for i, r := range resp.GetResults() {
		fmt.Fprintf(tw, "%d\t%.3f\t%s\t%s\t%s\n", i+1, r.GetScore(), oneLine(r.GetId(), 0), oneLine(r.GetTitle(), titleChars), oneLine(r.GetUrl(), 0))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	lines := strings.SplitAfter(rows.String(), "\n")
	var b strings.Builder
	b.WriteString(lines[0])
	for i, r := range resp.GetResults() {
		b.WriteString(lines[i+1])
		if r.Text != nil {
			fmt.Fprintf(&b, "      %s\n", oneLine(r.GetText(), textChars))
		}
	}
	fmt.Fprintf(&b, "%d results (%s search, %s)\n", len(resp.GetResults()),
		strings.ToLower(strings.TrimPrefix(resp.GetResolvedSearchType().String(), "SEARCH_TYPE_")),
		resp.GetTotalDuration().AsDuration().Round(time.Microsecond))
	_, err := io.WriteString(w, b.String())
	return err
}

// oneLine joins s's words with single spaces (tabs and newlines would
// break the table) and keeps it within n characters, the last of them "…"
// when s is cut; n 0 keeps it whole.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if n == 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	return cari.Truncate(s, n-1, "…")
}
