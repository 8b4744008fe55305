package analysis

import "strings"

// prefixSplit is one way to remove a prefix: the prefix's group (the
// prefix before assimilation: me for mem-, men-, meng-, meny-) and what is
// left, with the root's first letter restored where the prefix absorbed it.
type prefixSplit struct{ group, rest string }

func isVowel(b byte) bool { return b == 'a' || b == 'e' || b == 'i' || b == 'o' || b == 'u' }

// at returns w[i], or 0 past the end, so that rules can look ahead freely.
func at(w string, i int) byte {
	if i < len(w) {
		return w[i]
	}
	return 0
}

func isConsonant(b byte) bool { return b >= 'a' && b <= 'z' && !isVowel(b) }

// prefixSplits lists the ways w may carry a prefix, in the order the
// recoding rules of Asian et al. (2005) prefer. V is a vowel, C a consonant.
func prefixSplits(w string) []prefixSplit {
	switch {
	case strings.HasPrefix(w, "di"):
		return []prefixSplit{{"di", w[2:]}}
	case strings.HasPrefix(w, "ke"):
		return []prefixSplit{{"ke", w[2:]}}
	case strings.HasPrefix(w, "se"):
		return []prefixSplit{{"se", w[2:]}}
	case strings.HasPrefix(w, "be"):
		return beSplits(w)
	case strings.HasPrefix(w, "te"):
		return teSplits(w)
	case strings.HasPrefix(w, "me"):
		return meSplits(w)
	case strings.HasPrefix(w, "pe"):
		return peSplits(w)
	}
	return nil
}

func beSplits(w string) []prefixSplit {
	c3 := at(w, 3)
	switch {
	case strings.HasPrefix(w, "ber") && isVowel(c3): // berV -> ber-V | be-rV
		return []prefixSplit{{"be", w[3:]}, {"be", w[2:]}}
	case strings.HasPrefix(w, "ber") && isConsonant(c3) && c3 != 'r': // berCAP, berCAerV
		return []prefixSplit{{"be", w[3:]}}
	case w == "belajar" || strings.HasPrefix(w, "belajar"): // the one bel- word
		return []prefixSplit{{"be", w[3:]}}
	case isConsonant(at(w, 2)) && at(w, 2) != 'r' && at(w, 2) != 'l' && w[3:min(5, len(w))] == "er": // beC1erC2 -> be-C1erC2
		return []prefixSplit{{"be", w[2:]}}
	}
	return nil
}

func teSplits(w string) []prefixSplit {
	c3 := at(w, 3)
	switch {
	case strings.HasPrefix(w, "ter") && isVowel(c3): // terV -> ter-V | te-rV
		return []prefixSplit{{"te", w[3:]}, {"te", w[2:]}}
	case strings.HasPrefix(w, "ter") && isConsonant(c3) && c3 != 'r': // terCerV, terCP
		return []prefixSplit{{"te", w[3:]}}
	case isConsonant(at(w, 2)) && at(w, 2) != 'r' && w[3:min(5, len(w))] == "er": // teC1erC2 -> te-C1erC2
		return []prefixSplit{{"te", w[2:]}}
	}
	return nil
}

func meSplits(w string) []prefixSplit {
	c2, c3, c4 := at(w, 2), at(w, 3), at(w, 4)
	switch {
	case strings.ContainsRune("lrwy", rune(c2)) && c2 != 0 && isVowel(c3): // me{l|r|w|y}V -> me-{l|r|w|y}V
		return []prefixSplit{{"me", w[2:]}}
	case c2 == 'm' && (c3 == 'b' || c3 == 'f' || c3 == 'v'): // mem{b|f|v} -> mem-{b|f|v}
		return []prefixSplit{{"me", w[3:]}}
	case c2 == 'm' && c3 == 'p' && c4 == 'e': // mempe -> mem-pe
		return []prefixSplit{{"me", w[3:]}}
	case c2 == 'm' && c3 == 'p' && isVowel(c4): // mempV -> mem-pV (V != e)
		return []prefixSplit{{"me", w[3:]}}
	case c2 == 'm' && (isVowel(c3) || c3 == 'r' && isVowel(c4)): // mem{rV|V} -> me-m{rV|V} | me-p{rV|V}
		return []prefixSplit{{"me", w[2:]}, {"me", "p" + w[3:]}}
	case c2 == 'n' && (c3 == 'c' || c3 == 'd' || c3 == 'j' || c3 == 'z' || c3 == 's' && c4 == 'y'): // men{c|d|j|z|sy} -> men-...
		return []prefixSplit{{"me", w[3:]}}
	case c2 == 'n' && isVowel(c3): // menV -> me-nV | me-tV
		return []prefixSplit{{"me", w[2:]}, {"me", "t" + w[3:]}}
	case c2 == 'n' && c3 == 'g' && (c4 == 'g' || c4 == 'h' || c4 == 'q' || c4 == 'k'): // meng{g|h|q|k} -> meng-...
		return []prefixSplit{{"me", w[4:]}}
	case c2 == 'n' && c3 == 'g' && isVowel(c4): // mengV -> meng-V | meng-kV
		return []prefixSplit{{"me", w[4:]}, {"me", "k" + w[4:]}}
	case c2 == 'n' && c3 == 'y' && isVowel(c4): // menyV -> meny-sV | me-nyV
		return []prefixSplit{{"me", "s" + w[4:]}, {"me", w[2:]}}
	}
	return nil
}

func peSplits(w string) []prefixSplit {
	c2, c3, c4 := at(w, 2), at(w, 3), at(w, 4)
	switch {
	case (c2 == 'w' || c2 == 'y') && isVowel(c3): // pe{w|y}V -> pe-{w|y}V
		return []prefixSplit{{"pe", w[2:]}}
	case c2 == 'r' && isVowel(c3): // perV -> per-V | pe-rV
		return []prefixSplit{{"pe", w[3:]}, {"pe", w[2:]}}
	case c2 == 'r' && isConsonant(c3) && c3 != 'r': // perCAP, perCAerV -> per-...
		return []prefixSplit{{"pe", w[3:]}}
	case c2 == 'm' && (c3 == 'b' || c3 == 'f' || c3 == 'v'): // pem{b|f|v} -> pem-...
		return []prefixSplit{{"pe", w[3:]}}
	case c2 == 'm' && (isVowel(c3) || c3 == 'r' && isVowel(c4)): // pem{rV|V} -> pe-m{rV|V} | pe-p{rV|V}
		return []prefixSplit{{"pe", w[2:]}, {"pe", "p" + w[3:]}}
	case c2 == 'n' && (c3 == 'c' || c3 == 'd' || c3 == 'j' || c3 == 'z'): // pen{c|d|j|z} -> pen-...
		return []prefixSplit{{"pe", w[3:]}}
	case c2 == 'n' && isVowel(c3): // penV -> pe-nV | pe-tV
		return []prefixSplit{{"pe", w[2:]}, {"pe", "t" + w[3:]}}
	case c2 == 'n' && c3 == 'g' && isConsonant(c4): // pengC -> peng-C
		return []prefixSplit{{"pe", w[4:]}}
	case c2 == 'n' && c3 == 'g' && isVowel(c4): // pengV -> peng-V | peng-kV
		return []prefixSplit{{"pe", w[4:]}, {"pe", "k" + w[4:]}}
	case c2 == 'n' && c3 == 'y' && isVowel(c4): // penyV -> peny-sV | pe-nyV
		return []prefixSplit{{"pe", "s" + w[4:]}, {"pe", w[2:]}}
	case c2 == 'l' && strings.HasPrefix(w, "pelajar"): // pelajar -> pel-ajar
		return []prefixSplit{{"pe", w[3:]}}
	case c2 == 'l' && isVowel(c3): // pelV -> pe-lV
		return []prefixSplit{{"pe", w[2:]}}
	case isConsonant(c2) && !strings.ContainsRune("rwylmn", rune(c2)): // peCP, peCerV -> pe-C...
		return []prefixSplit{{"pe", w[2:]}}
	}
	return nil
}
