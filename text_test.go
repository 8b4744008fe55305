package cari

import (
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	tests := []struct {
		s      string
		max    int
		marker string
		want   string
	}{
		{"hello", 0, "", "hello"},
		{"hello", -1, "", "hello"},
		{"hello", 3, "", "hel"},
		{"hello", 5, "", "hello"},
		{"hello", 6, "", "hello"},
		{"", 3, "", ""},
		{"héllo wörld", 2, "", "hé"},
		{"héllo wörld", 8, "", "héllo wö"},
		{"日本語テキスト", 3, "", "日本語"},
		{"日本語", 3, "", "日本語"},
		{"日本語", 4, "", "日本語"}, // 9 bytes but only 3 characters
		{"a😀b😀c", 2, "", "a😀"},
		{"a😀b😀c", 4, "", "a😀b😀"},
		{"e\u0301e\u0301", 1, "", "e"}, // characters are runes, not grapheme clusters
		{"hello", 3, "…", "hel…"},
		{"hello", 5, "…", "hello"}, // not cut: no marker
		{"日本語テキスト", 3, "...", "日本語..."},
		{"hello", 0, "…", "hello"},
	}
	for _, tt := range tests {
		got := Truncate(tt.s, tt.max, tt.marker)
		if got != tt.want {
			t.Errorf("Truncate(%q, %d, %q) = %q, want %q", tt.s, tt.max, tt.marker, got, tt.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d, %q) = %q is not valid UTF-8", tt.s, tt.max, tt.marker, got)
		}
	}
}

func TestTruncateBytesKeepsRunes(t *testing.T) {
	s := "北京北京"
	for n := 0; n <= len(s)+1; n++ {
		got := TruncateBytes(s, n)
		if n > 0 && len(got) > n {
			t.Errorf("TruncateBytes(%q, %d) = %q, longer than %d", s, n, got, n)
		}
		if !utf8.ValidString(got) {
			t.Errorf("TruncateBytes(%q, %d) = %q cut a rune", s, n, got)
		}
		if n > 0 && len(got) < n-2 {
			t.Errorf("TruncateBytes(%q, %d) = %q cut more than the rune that did not fit", s, n, got)
		}
	}
	if got := TruncateBytes(s, 0); got != s {
		t.Errorf("TruncateBytes(s, 0) = %q, want it whole", got)
	}
}
