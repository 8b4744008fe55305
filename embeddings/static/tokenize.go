package static

import (
	"unicode"
	"unicode/utf8"
)

// wordIDs appends to ids the vocabulary row of each word of text, in the
// form GloVe's vocabulary spells words: lower-cased runs of letters and
// digits, joined by an inner hyphen, apostrophe or full stop
// ("well-known", "o'neill", "3.5"), punctuation dropped. A joined word
// that the vocabulary lacks is looked up part by part, so "tnf-alpha"
// falls back to "tnf" and "alpha"; other unknown words are skipped. buf
// is scratch space for the lower-cased bytes, returned for reuse.
func wordIDs(text string, vocab map[string]int32, ids []int32, buf []byte) ([]int32, []byte) {
	for i := 0; i < len(text); {
		start, end := nextWord(text, i)
		if start == end {
			break
		}
		buf = lowerInto(buf[:0], text[start:end])
		if id, ok := vocab[string(buf)]; ok {
			ids = append(ids, id)
		} else if hasJoiner(buf) {
			ids = appendPartIDs(ids, buf, vocab)
		}
		i = end
	}
	return ids, buf
}

// nextWord returns the byte range of the first word at or after i, or an
// empty range at the end of text.
func nextWord(text string, i int) (start, end int) {
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		if isWordRune(r) {
			break
		}
		i += n
	}
	start = i
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		if isWordRune(r) {
			i += n
			continue
		}
		// A joiner belongs to the word only between two word characters.
		if isJoiner(r) && i+n < len(text) {
			next, _ := utf8.DecodeRuneInString(text[i+n:])
			if isWordRune(next) {
				i += n
				continue
			}
		}
		break
	}
	return start, i
}

// appendPartIDs appends the rows of the parts of a joined word that the
// vocabulary knows.
func appendPartIDs(ids []int32, word []byte, vocab map[string]int32) []int32 {
	start := 0
	for i := 0; i <= len(word); i++ {
		if i < len(word) && !isJoiner(rune(word[i])) {
			continue
		}
		if id, ok := vocab[string(word[start:i])]; ok && i > start {
			ids = append(ids, id)
		}
		start = i + 1
	}
	return ids
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func isJoiner(r rune) bool { return r == '-' || r == '\'' || r == '.' }

func hasJoiner(word []byte) bool {
	for _, c := range word {
		if isJoiner(rune(c)) {
			return true
		}
	}
	return false
}

// lowerInto appends the lower-cased s to dst, with an ASCII fast path.
func lowerInto(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += n
	}
	return dst
}
