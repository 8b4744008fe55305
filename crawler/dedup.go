package crawler

import (
	"math/bits"
	"unicode"
)

// Near-duplicate detection: Charikar's SimHash over word 3-shingles, 64
// bits. Two texts whose fingerprints differ in at most nearDupBits bits are
// near duplicates. Manku, Jain and Das Sarma (WWW 2007) use 3 bits for
// billions of pages; on a 400-word page that catches one changed word and
// misses two (5 bits apart), so Cari allows 7, which catches about three
// changed words in 400. Among the 530 pages of the Python documentation no
// two are closer than 13 bits. Texts shorter than minSimHashWords words are
// compared only exactly: a few words give too few shingles for a stable
// fingerprint.
const (
	nearDupBits     = 7
	minSimHashWords = 50
	shingleWords    = 3
)

// SimHash returns the SimHash fingerprint of text and whether the text is
// long enough for it to be meaningful. Words are runs of letters and
// digits, compared case-insensitively.
func SimHash(text string) (uint64, bool) {
	var v [64]int32
	var window [shingleWords]uint64 // hashes of the last words
	n := 0
	addShingle := func() {
		x := window[0]
		for _, w := range window[1:] {
			x = (x ^ w) * fnvPrime
			x ^= x >> 29
		}
		for b := range 64 {
			v[b] += int32(x>>b&1)*2 - 1
		}
	}
	h, inWord := uint64(fnvOffset), false
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			r = unicode.ToLower(r)
			for ; r > 0; r >>= 8 {
				h = (h ^ uint64(r&0xff)) * fnvPrime
			}
			inWord = true
			continue
		}
		if inWord {
			copy(window[:], window[1:])
			window[shingleWords-1] = h
			n++
			if n >= shingleWords {
				addShingle()
			}
			h, inWord = fnvOffset, false
		}
	}
	if inWord {
		copy(window[:], window[1:])
		window[shingleWords-1] = h
		n++
		if n >= shingleWords {
			addShingle()
		}
	}
	if n < minSimHashWords {
		return 0, false
	}
	var fp uint64
	for b := range 64 {
		if v[b] > 0 {
			fp |= 1 << b
		}
	}
	return fp, true
}

// FNV-1a constants.
const fnvOffset, fnvPrime = 14695981039346656037, 1099511628211

// simIndex finds fingerprints within nearDupBits bits of a query. With
// eight 8-bit blocks, two fingerprints that differ in at most seven bits
// agree on at least one whole block (pigeonhole), so only the fingerprints
// sharing a block with the query are compared.
type simIndex struct {
	blocks [nearDupBits + 1]map[uint8][]simEntry
}

type simEntry struct {
	fp  uint64
	url string
}

func newSimIndex() *simIndex {
	var s simIndex
	for i := range s.blocks {
		s.blocks[i] = make(map[uint8][]simEntry)
	}
	return &s
}

func block(fp uint64, i int) uint8 { return uint8(fp >> (8 * i)) }

func (s *simIndex) add(fp uint64, url string) {
	for i := range s.blocks {
		k := block(fp, i)
		s.blocks[i][k] = append(s.blocks[i][k], simEntry{fp, url})
	}
}

func (s *simIndex) remove(fp uint64, url string) {
	for i := range s.blocks {
		k := block(fp, i)
		list := s.blocks[i][k]
		for j, e := range list {
			if e.fp == fp && e.url == url {
				list = append(list[:j], list[j+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(s.blocks[i], k)
		} else {
			s.blocks[i][k] = list
		}
	}
}

// near returns a URL other than self whose fingerprint is within
// nearDupBits of fp, or "".
func (s *simIndex) near(fp uint64, self string) string {
	for i := range s.blocks {
		for _, e := range s.blocks[i][block(fp, i)] {
			if e.url != self && bits.OnesCount64(e.fp^fp) <= nearDupBits {
				return e.url
			}
		}
	}
	return ""
}
