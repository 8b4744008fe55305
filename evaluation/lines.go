package evaluation

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"unicode"
)

// maxLineBytes bounds one line of a qrels or run file. Real lines are a few dozen bytes; the
// bound only stops a corrupt file from being read into memory whole.
const maxLineBytes = 16 << 20

// newLineScanner returns a scanner that splits text into lines the way Python's text mode
// does (universal newlines): "\n", "\r\n" and a lone "\r" each end a line. score_run.py reads
// files that way, so a file with old Mac line endings numbers its lines the same in both.
func newLineScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	sc.Split(scanUniversalLines)
	return sc
}

// scanUniversalLines is a bufio.SplitFunc for newLineScanner.
func scanUniversalLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	i := bytes.IndexAny(data, "\r\n")
	switch {
	case i < 0:
		if atEOF {
			return len(data), data, nil
		}
		return 0, nil, nil
	case data[i] == '\n':
		return i + 1, data[:i], nil
	case i+1 < len(data):
		if data[i+1] == '\n' {
			return i + 2, data[:i], nil
		}
		return i + 1, data[:i], nil
	case atEOF:
		return i + 1, data[:i], nil
	default:
		// A "\r" at the end of the buffer may be the first half of "\r\n".
		return 0, nil, nil
	}
}

// fields splits a line on whitespace as Python's str.split() does: Go's unicode.IsSpace plus
// the ASCII separators U+001C..U+001F, which Python also counts as whitespace.
func fields(line string) []string {
	return strings.FieldsFunc(line, func(r rune) bool {
		return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
	})
}
