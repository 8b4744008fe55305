package static

import (
	"slices"
	"testing"
)

func TestWordIDs(t *testing.T) {
	vocab := map[string]int32{}
	for i, w := range []string{"the", "well-known", "u.s", "tnf", "alpha", "3.5", "o'neill", "café", "cells", "β", "il-6", "don't", "covid", "19", "n't"} {
		vocab[w] = int32(i)
	}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"The well-known cells", []string{"the", "well-known", "cells"}},
		{"TNF-alpha (3.5 mg)", []string{"tnf", "alpha", "3.5"}},
		{"O'Neill, U.S.", []string{"o'neill", "u.s"}},
		{"Café β-cells", []string{"café", "β", "cells"}},
		{"IL-6 and COVID-19!", []string{"il-6", "covid", "19"}},
		{"--the-- ...the...", []string{"the", "the"}},
		{"don't", []string{"don't"}},
		{"unknown words only", nil},
		{"", nil},
	} {
		ids, _ := wordIDs(tc.text, vocab, nil, nil)
		var got []string
		for _, id := range ids {
			for w, i := range vocab {
				if i == id {
					got = append(got, w)
				}
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestIsLookupWord(t *testing.T) {
	for w, want := range map[string]bool{
		"the": true, "well-known": true, "3.5": true, "café": true,
		",": false, "...": false, "The": false, "-the": false, "http://x": false, "": false, "a b": false,
	} {
		if got := isLookupWord(w); got != want {
			t.Errorf("isLookupWord(%q) = %v, want %v", w, got, want)
		}
	}
}

func BenchmarkWordIDs(b *testing.B) {
	vocab := map[string]int32{"the": 0, "cells": 1, "tumour": 2}
	text := "The tumour cells, and THE cells of the tumour (IL-6) were 3.5-fold higher."
	var ids []int32
	var buf []byte
	for b.Loop() {
		ids, buf = wordIDs(text, vocab, ids[:0], buf)
	}
}
