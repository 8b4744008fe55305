package searcher

import (
	"math/rand/v2"
	"strings"
)

// nonsenseQueries returns n queries that no collection in English should
// answer, the same for the same seed: random letters, words in scripts the
// index does not hold, real words with accents where none belong, and the
// three that issue 19 reported.
func nonsenseQueries(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := []string{"qwxzzyplk blorfing", "défícíéncy vitamín", "فيتامين د"}
	kinds := []func(*rand.Rand) string{randomLetters, otherScript, accentedWords}
	for len(out) < n {
		out = append(out, kinds[len(out)%len(kinds)](r))
	}
	return out[:n]
}

// words joins two to four words made by word.
func words(r *rand.Rand, word func() string) string {
	w := make([]string, 2+r.IntN(3))
	for i := range w {
		w[i] = word()
	}
	return strings.Join(w, " ")
}

// randomLetters is words of 6 to 11 random Latin letters.
func randomLetters(r *rand.Rand) string {
	return words(r, func() string {
		b := make([]byte, 6+r.IntN(6))
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		return string(b)
	})
}

// scripts are letter ranges of alphabets an English index holds nothing in:
// Arabic, Cyrillic, Devanagari, Hangul, Thai, Georgian.
var scripts = [][2]rune{{0x0628, 0x064A}, {0x0430, 0x044F}, {0x0915, 0x0939}, {0xAC00, 0xD7A3}, {0x0E01, 0x0E2E}, {0x10D0, 0x10F0}}

// otherScript is words of 3 to 8 random letters of one such script.
func otherScript(r *rand.Rand) string {
	s := scripts[r.IntN(len(scripts))]
	return words(r, func() string {
		w := make([]rune, 3+r.IntN(6))
		for i := range w {
			w[i] = s[0] + rune(r.IntN(int(s[1]-s[0]+1)))
		}
		return string(w)
	})
}

// vocabulary is ordinary words of the collections' subjects; accentedWords
// spells them with accents no dictionary has, out of every vocabulary.
var vocabulary = []string{"deficiency", "vitamin", "protein", "cancer", "cells", "pressure", "wing", "boundary", "layer", "treatment", "patients", "gene", "flow", "heat", "expression", "risk"}

var accents = map[byte][]string{'a': {"á", "à", "â", "ä"}, 'e': {"é", "è", "ê", "ë"}, 'i': {"í", "ì", "î", "ï"}, 'o': {"ó", "ò", "ô", "ö"}, 'u': {"ú", "ù", "û", "ü"}}

// accentedWords is vocabulary words with every vowel accented.
func accentedWords(r *rand.Rand) string {
	return words(r, func() string {
		var b strings.Builder
		for _, c := range []byte(vocabulary[r.IntN(len(vocabulary))]) {
			if a, ok := accents[c]; ok {
				b.WriteString(a[r.IntN(len(a))])
			} else {
				b.WriteByte(c)
			}
		}
		return b.String()
	})
}
