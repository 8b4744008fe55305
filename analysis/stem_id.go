package analysis

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// RootWords is a set of Indonesian root words (kata dasar), the dictionary
// the Nazief-Adriani stemmer checks every candidate stem against.
type RootWords map[string]struct{}

// ParseHunspellWords reads root words from a Hunspell dictionary (.dic):
// an optional first line with the entry count, then one entry a line as
// word/FLAGS. Only lower-case entries of letters a-z are kept: capitalised
// entries are names, and entries with hyphens or marks are affixes or
// compounds, which the tokenizer splits anyway.
func ParseHunspellWords(r io.Reader) (RootWords, error) {
	words := RootWords{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		w, _, _ := strings.Cut(strings.TrimSpace(sc.Text()), "/")
		if line == 1 && isDigits(w) {
			continue
		}
		if len(w) >= 2 && isLowerASCII(w) {
			words[w] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read root words: %w", err)
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("read root words: no lower-case entries found")
	}
	return words, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isLowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// IndonesianStemmer reduces Indonesian words to their root with the
// Nazief-Adriani confix-stripping algorithm (Nazief and Adriani, 1996, as
// described and extended by Asian et al., "Stemming Indonesian", 2005, and
// Adriani et al., ACM TALIP 6(4), 2007):
//
//  1. a word found in the dictionary is a root;
//  2. remove a particle (-lah, -kah, -tah, -pun), then a possessive
//     pronoun (-ku, -mu, -nya), checking the dictionary after each;
//  3. remove a derivational suffix (-kan, -an, -i);
//  4. remove up to three derivational prefixes (di-, ke-, se-, and be-,
//     te-, me-, pe- in their assimilated forms, following the recoding
//     rules), never the same prefix twice and never a prefix that cannot
//     pair with the removed suffix (be-...-i, di-...-an, ke-...-i,
//     ke-...-kan, me-...-an, se-...-i, se-...-kan, te-...-an; the one
//     exception is ke-tahu-i);
//  5. if no root is found, restore the derivational suffix and try the
//     prefixes again (Asian et al.'s loop restoration), and if none is
//     found then either, return the word unchanged.
//
// Every step checks the dictionary, so a word is only ever reduced to a
// known root, of at least three letters (two-letter entries such as "pa"
// would otherwise swallow words like memakan). It is safe for concurrent use.
type IndonesianStemmer struct {
	roots RootWords
}

// NewIndonesianStemmer returns a stemmer that checks stems against roots.
func NewIndonesianStemmer(roots RootWords) *IndonesianStemmer {
	return &IndonesianStemmer{roots: roots}
}

func (s *IndonesianStemmer) isRoot(w string) bool {
	_, ok := s.roots[w]
	return ok
}

// Stem returns the root of a lower-case word, or the word itself when no
// root is found. Words with letters outside a-z are returned unchanged.
func (s *IndonesianStemmer) Stem(word string) string {
	if len(word) < 4 || !isLowerASCII(word) || s.isRoot(word) {
		return word
	}
	w, root := s.stripInflections(word)
	if root {
		return w
	}
	for _, c := range derivations(w) {
		if c.suffix != "" && s.isRoot(c.stem) {
			return c.stem
		}
		if root, ok := s.stripPrefixes(c.stem, c.suffix, "", 0); ok {
			return root
		}
	}
	return word
}

// StemInflections removes only the inflectional suffixes of a lower-case
// word that is not a root word: a particle (-lah, -kah, -tah, -pun), then a
// possessive pronoun (-ku, -mu, -nya), each only when at least three
// letters remain. It is the light variant the Indonesian development set
// compared with Stem (docs/EVALUATION.md); words with letters outside a-z
// are returned unchanged.
func (s *IndonesianStemmer) StemInflections(word string) string {
	if len(word) < 4 || !isLowerASCII(word) || s.isRoot(word) {
		return word
	}
	w, _ := s.stripInflections(word)
	return w
}

// stripInflections removes a particle and then a possessive pronoun from w,
// stopping at the first root word it reaches (root reports whether it did).
func (s *IndonesianStemmer) stripInflections(w string) (stem string, root bool) {
	for _, inflection := range [][]string{{"lah", "kah", "tah", "pun"}, {"ku", "mu", "nya"}} {
		for _, suf := range inflection {
			if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
				w = w[:len(w)-len(suf)]
				if s.isRoot(w) {
					return w, true
				}
				break
			}
		}
	}
	return w, false
}

// derivation is a candidate split of a word into a stem and a derivational
// suffix ("" for none).
type derivation struct{ stem, suffix string }

// derivations lists the splits to try, in order: the suffix removed, then
// restored. For -kan the restored word is tried before -an alone, so that
// memakan is me-makan rather than me-mak-an.
func derivations(w string) []derivation {
	out := make([]derivation, 0, 3)
	cut := func(suf string) derivation { return derivation{w[:len(w)-len(suf)], suf} }
	switch {
	case strings.HasSuffix(w, "kan") && len(w) > 5:
		out = append(out, cut("kan"), derivation{w, ""}, cut("an"))
	case strings.HasSuffix(w, "an") && len(w) > 4:
		out = append(out, cut("an"), derivation{w, ""})
	case strings.HasSuffix(w, "i") && len(w) > 4:
		out = append(out, cut("i"), derivation{w, ""})
	default:
		out = append(out, derivation{w, ""})
	}
	return out
}

// disallowedConfixes are prefix-suffix pairs that do not occur together:
// a word that seems to have one is not analysed that way.
var disallowedConfixes = map[[2]string]bool{
	{"be", "i"}: true, {"di", "an"}: true, {"ke", "i"}: true, {"ke", "kan"}: true,
	{"me", "an"}: true, {"se", "i"}: true, {"se", "kan"}: true, {"te", "an"}: true,
}

// stripPrefixes removes up to three prefixes from w, depth-first through
// the recoding alternatives, and returns the first root it reaches.
func (s *IndonesianStemmer) stripPrefixes(w, suffix, previous string, removed int) (string, bool) {
	if removed == 3 {
		return "", false
	}
	for _, p := range prefixSplits(w) {
		if p.group == previous || len(p.rest) < 3 {
			continue
		}
		if removed == 0 && disallowedConfixes[[2]string{p.group, suffix}] && !(w == "ketahu" && suffix == "i") {
			continue
		}
		if s.isRoot(p.rest) {
			return p.rest, true
		}
		if root, ok := s.stripPrefixes(p.rest, suffix, p.group, removed+1); ok {
			return root, true
		}
	}
	return "", false
}
