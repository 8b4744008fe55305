package evaluation

import (
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestScanUniversalLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"lf", "a\nb\n", []string{"a", "b"}},
		{"no final newline", "a\nb", []string{"a", "b"}},
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}},
		{"lone cr", "a\rb\r", []string{"a", "b"}},
		{"mixed", "a\r\n\rb\nc", []string{"a", "", "b", "c"}},
		{"blank lines kept", "\n\na\n", []string{"", "", "a"}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte at a time splits every "\r\n" across reads.
			sc := newLineScanner(iotest.OneByteReader(strings.NewReader(tt.in)))
			var got []string
			for sc.Scan() {
				got = append(got, sc.Text())
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("lines = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFields(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"q1\td1\t2", []string{"q1", "d1", "2"}},
		{"  q1   Q0 d1 ", []string{"q1", "Q0", "d1"}},
		{"q1\x1fd1\u00a0x", []string{"q1", "d1", "x"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := fields(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("fields(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
