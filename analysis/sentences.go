package analysis

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/neurosnap/sentences"
	"github.com/neurosnap/sentences/data"
	"github.com/neurosnap/sentences/english"
)

// indonesianAbbreviations are abbreviations common in Indonesian text that
// end in a period but not a sentence ("dll." is "etc.", "Jl." is "Street",
// "Drs." a graduate's title). They are added to Punkt's English model, whose
// own abbreviations ("e.g.", "Dr.") Indonesian text uses too. Those that
// end English sentences too are left out: "Ir." (an engineer, and
// insulin resistance), "PD." (pada, and Parkinson's disease), "H." (Haji,
// and initials).
var indonesianAbbreviations = []string{
	"dll", "dsb", "dst", "dkk", "tsb", "yth", "sdr", "sdri", "bpk", "ybs",
	"jl", "jln", "gg", "kel", "kec", "kab", "prov", "kp",
	"rp", "tgl", "thn", "hlm", "sbg", "spt", "krn", "utk", "dgn", "tdk", "yg",
	"drs", "dra", "drg", "hj", "kh", "pt", "tbk", "persero",
	"s.h", "s.e", "s.pd", "s.kom", "m.si", "m.hum", "m.pd", "a.md",
}

// newSentenceModel returns Punkt's English model with the Indonesian
// abbreviations added.
func newSentenceModel() (*sentences.DefaultSentenceTokenizer, error) {
	b, err := data.Asset("data/english.json")
	if err != nil {
		return nil, err
	}
	training, err := sentences.LoadTraining(b)
	if err != nil {
		return nil, err
	}
	for _, a := range indonesianAbbreviations {
		training.AbbrevTypes.Add(a)
	}
	return english.NewSentenceTokenizer(training)
}

// Full-width sentence ends (Chinese and Japanese) and the closing quotes
// and brackets that may follow them inside the sentence.
const (
	fullWidthEnds    = "。！？｡‼⁇⁈⁉．"
	fullWidthClosers = "」』）】〉》〕］｝”’\"')"
	openers          = "「『（【〈《〔［｛“‘\"'("
)

// splitFullWidth splits a sentence span of text after each full-width end
// mark (with any marks and closers that follow it), which Punkt, trained on
// space-separated English, does not see inside CJK text. A closing quote
// after the mark ends the sentence only if a space, an opening quote or the
// end of the span follows: in 「本当ですか？」と彼は聞いた。 the question is
// part of the sentence that reports it.
func splitFullWidth(text string, s span) []span {
	if !strings.ContainsAny(text[s.start:s.end], fullWidthEnds) {
		return []span{s}
	}
	var out []span
	start := s.start
	for i := s.start; i < s.end; {
		r, n := utf8.DecodeRuneInString(text[i:])
		i += n
		if !strings.ContainsRune(fullWidthEnds, r) {
			continue
		}
		closed := false
		for i < s.end {
			r, n := utf8.DecodeRuneInString(text[i:])
			if strings.ContainsRune(fullWidthEnds, r) {
				i += n
				continue
			}
			if strings.ContainsRune(fullWidthClosers, r) {
				i += n
				closed = true
				continue
			}
			break
		}
		if i >= s.end {
			break
		}
		if closed {
			next, _ := utf8.DecodeRuneInString(text[i:])
			if !unicode.IsSpace(next) && !strings.ContainsRune(openers, next) {
				continue
			}
		}
		if sp := trimSpan(text, span{start, i}); sp.end > sp.start {
			out = append(out, sp)
		}
		start = i
	}
	if sp := trimSpan(text, span{start, s.end}); sp.end > sp.start {
		out = append(out, sp)
	}
	return out
}

// mergeClosers joins a sentence that starts with a closing quote or
// bracket to the one before: Punkt ends a sentence at 。 even inside a
// quotation (他说：“我明天去。”然后他走了。), leaving the closing quote to start
// the next one. splitFullWidth then decides where the sentence ends.
func mergeClosers(text string, spans []span) []span {
	out := spans[:0:0]
	for _, s := range spans {
		r, _ := utf8.DecodeRuneInString(text[s.start:])
		if len(out) > 0 && strings.ContainsRune(fullWidthClosers, r) && r != '"' && r != '\'' && r != ')' {
			out[len(out)-1].end = s.end
			continue
		}
		out = append(out, s)
	}
	return out
}

// clauseBreaks are where a sentence too long for one passage is best cut
// when it has no spaces (CJK text): after a comma, an enumeration comma or
// a semicolon.
const clauseBreaks = "，、；：,;"

// cutPoint returns where to cut text in (lo, hi]: at the last space, else
// after the last clause break, else at the last rune boundary, so that a
// cut never falls inside a word of a spaced language or inside a
// character.
func cutPoint(text string, lo, hi int) int {
	for i := hi; i > lo; i-- {
		if isCutPoint(text, i) {
			return i
		}
	}
	for i := hi; i > lo; {
		r, n := utf8.DecodeLastRuneInString(text[lo:i])
		if strings.ContainsRune(clauseBreaks, r) {
			return i
		}
		i -= n
	}
	for hi > lo && !utf8.RuneStart(text[hi]) {
		hi--
	}
	return hi
}
