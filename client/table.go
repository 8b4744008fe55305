package client

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-runewidth"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// Widths of the table's clipped cells, in terminal columns.
const (
	titleColumns = 60
	textColumns  = 200
)

// columnGap is the spaces between two of the table's columns.
const columnGap = 2

// WriteTable writes resp as cari search prints it: a row a result (rank,
// score, id, title, URL; the id as collection/id when the results come
// from several collections), under it the result's text when the response
// has one, and a line of totals. Titles and texts are put on one line, so
// that a newline in a document cannot break the table. Columns are
// aligned by the width a terminal shows, not by characters: a Chinese or
// Japanese character takes two columns and a combining accent none.
func WriteTable(w io.Writer, resp *cariv1.SearchResponse) error {
	rows := [][]string{{"RANK", "SCORE", "ID", "TITLE", "URL"}}
	several := spansCollections(resp)
	for i, r := range resp.GetResults() {
		id := r.GetId()
		if several {
			id = r.GetCollection() + "/" + id
		}
		rows = append(rows, []string{strconv.Itoa(i + 1), fmt.Sprintf("%.3f", r.GetScore()),
			oneLine(id, 0), oneLine(r.GetTitle(), titleColumns), oneLine(r.GetUrl(), 0)})
	}
	lines := alignColumns(rows)
	var b strings.Builder
	b.WriteString(lines[0])
	for i, r := range resp.GetResults() {
		b.WriteString(lines[i+1])
		if r.Text != nil {
			fmt.Fprintf(&b, "      %s\n", oneLine(r.GetText(), textColumns))
		}
	}
	fmt.Fprintf(&b, "%d results (%s search, %s)\n", len(resp.GetResults()),
		strings.ToLower(strings.TrimPrefix(resp.GetResolvedSearchType().String(), "SEARCH_TYPE_")),
		resp.GetTotalDuration().AsDuration().Round(time.Microsecond))
	_, err := io.WriteString(w, b.String())
	return err
}

// spansCollections reports whether resp's results come from more than one
// collection.
func spansCollections(resp *cariv1.SearchResponse) bool {
	for _, r := range resp.GetResults() {
		if r.GetCollection() != resp.GetResults()[0].GetCollection() {
			return true
		}
	}
	return false
}

// alignColumns returns rows as lines, each ending in a newline, every cell
// but the last padded to its column's widest cell plus columnGap, in
// terminal columns.
func alignColumns(rows [][]string) []string {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], runewidth.StringWidth(cell))
		}
	}
	lines := make([]string, len(rows))
	for r, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			if i == len(row)-1 {
				b.WriteString(cell)
				break
			}
			b.WriteString(runewidth.FillRight(cell, widths[i]+columnGap))
		}
		b.WriteByte('\n')
		lines[r] = b.String()
	}
	return lines
}

// oneLine joins s's words with single spaces (tabs and newlines would
// break the table) and keeps it within n terminal columns, the last of
// them "…" when s is cut, which happens between grapheme clusters, so an
// accent stays with its letter; n 0 keeps it whole.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if n == 0 {
		return s
	}
	return runewidth.Truncate(s, n, "…")
}
