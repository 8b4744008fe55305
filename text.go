package cari

import "unicode/utf8"

// Truncate returns the first n characters (runes) of s, followed by marker
// when s was longer: marker "" for a limit a client asked for (contents'
// maxCharacters), "…" for an excerpt that a reader should know is cut
// (a quoted error body, a prompt's source). Characters are runes, not
// grapheme clusters. n <= 0 keeps s whole.
func Truncate(s string, n int, marker string) string {
	if n <= 0 || len(s) <= n {
		return s // no more runes than bytes
	}
	count := 0
	for i := range s {
		if count == n {
			return s[:i] + marker
		}
		count++
	}
	return s
}

// TruncateBytes returns s cut to at most n bytes, at a rune boundary so
// that valid UTF-8 stays valid: for limits that bound cost rather than
// what a reader sees (the Max*Bytes of a Document, the text a language
// detector reads). n <= 0 keeps s whole.
func TruncateBytes(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
