package extract

import (
	"strings"
	"unicode"

	"github.com/cari-search/cari"
)

// languageTag returns s as a canonical BCP 47 tag, or "" if it is not one:
// a page's declared language is a hint, and a wrong one is dropped.
func languageTag(s string) string {
	tag, err := cari.LanguageTag(s)
	if err != nil {
		return ""
	}
	return tag
}

func firstToken(s string) string {
	tok, _, _ := strings.Cut(s, ",")
	return strings.TrimSpace(tok)
}

func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// cleanText makes text valid UTF-8 without NUL bytes or trailing spaces,
// with at most one blank line in a row.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	blank := 0
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		if strings.TrimSpace(line) == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			if blank > 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte('\n')
			}
		}
		blank = 0
		b.WriteString(line)
	}
	return b.String()
}

// cleanLine makes s one line of single-spaced valid UTF-8.
func cleanLine(s string) string {
	return strings.Join(strings.Fields(strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "")), " ")
}

func firstLine(text string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	const maxRunes = 120
	return cari.Truncate(line, maxRunes, "")
}

func wordCount(s string) int {
	n := 0
	in := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			in = false
		} else if !in {
			in = true
			n++
		}
	}
	return n
}
