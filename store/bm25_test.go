package store

import (
	"math"
	"strings"
	"testing"
)

// closeTo reports whether got is within a relative 1e-12 of want.
func closeTo(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want))
}

func TestIDF(t *testing.T) {
	tests := []struct {
		name  string
		n, df float64
		want  float64
	}{
		// ln(1 + (N - df + 0.5) / (df + 0.5))
		{"one of ten", 10, 1, math.Log(1 + 9.5/1.5)},
		{"half", 10, 5, math.Ln2}, // ln(1 + 5.5/5.5)
		{"in every document stays positive", 10, 10, math.Log(1 + 0.5/10.5)},
		{"single document corpus", 1, 1, math.Log(1 + 0.5/1.5)},
		{"million docs, rare", 1e6, 3, math.Log(1 + (1e6-2.5)/3.5)},
	}
	p := DefaultBM25
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.IDF(tt.n, tt.df)
			if !closeTo(got, tt.want) {
				t.Errorf("IDF(%v, %v) = %.17g, want %.17g", tt.n, tt.df, got, tt.want)
			}
			if got <= 0 {
				t.Errorf("IDF(%v, %v) = %v, want > 0", tt.n, tt.df, got)
			}
		})
	}
	if p.IDF(100, 1) <= p.IDF(100, 2) {
		t.Error("a rarer term must have a higher IDF")
	}
	if got := p.IDF(10, 5); !closeTo(got, math.Ln2) {
		t.Errorf("IDF(10, 5) = %v, want ln 2", got)
	}
}

func TestTermScore(t *testing.T) {
	tests := []struct {
		name               string
		p                  BM25
		idf, tf, dl, avgdl float64
		want               float64
	}{
		// idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
		{"average length", DefaultBM25, 2, 1, 10, 10, 2 * 1 * 2.2 / (1 + 1.2)},
		{"tf 3 at average length", DefaultBM25, 1, 3, 5, 5, 3 * 2.2 / (3 + 1.2)},
		{"twice average length", DefaultBM25, 1, 1, 20, 10, 2.2 / (1 + 1.2*(0.25+1.5))},
		{"half average length", DefaultBM25, 1, 2, 5, 10, 2 * 2.2 / (2 + 1.2*(0.25+0.375))},
		{"b 0 ignores length", BM25{K1: 1.2, B: 0}, 1, 1, 1000, 10, 1}, // 2.2 / 2.2
		{"b 1 full normalization", BM25{K1: 1.2, B: 1}, 1, 1, 30, 10, 2.2 / (1 + 3.6)},
		{"k1 0 is binary", BM25{K1: 0, B: 0.75}, 3, 7, 50, 10, 3},
		{"empty corpus avgdl 0", DefaultBM25, 1, 1, 4, 0, 1}, // 2.2 / 2.2
		{"tf 0 scores nothing", DefaultBM25, 5, 0, 4, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.TermScore(tt.idf, tt.tf, tt.dl, tt.avgdl)
			if !closeTo(got, tt.want) {
				t.Errorf("TermScore(%v, %v, %v, %v) with %+v = %.17g, want %.17g",
					tt.idf, tt.tf, tt.dl, tt.avgdl, tt.p, got, tt.want)
			}
		})
	}
}

func TestTermScoreSaturates(t *testing.T) {
	p := DefaultBM25
	prev := 0.0
	for tf := 1.0; tf <= 1000; tf *= 2 {
		s := p.TermScore(1, tf, 10, 10)
		if s <= prev {
			t.Fatalf("score at tf %v = %v, not above %v at tf/2", tf, s, prev)
		}
		prev = s
	}
	// The limit as tf grows is idf * (k1 + 1).
	if limit := 2.2; prev >= limit || limit-prev > 0.01 {
		t.Errorf("score at tf 512 = %v, want just under %v", prev, limit)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		p  BM25
		ok bool
	}{
		{DefaultBM25, true},
		{BM25{K1: 0, B: 0}, true},
		{BM25{K1: 0, B: 1}, true},
		{BM25{K1: 100, B: 0.5}, true},
		{BM25{K1: -0.1, B: 0.5}, false},
		{BM25{K1: math.NaN(), B: 0.5}, false},
		{BM25{K1: math.Inf(1), B: 0.5}, false},
		{BM25{K1: 1.2, B: -0.01}, false},
		{BM25{K1: 1.2, B: 1.01}, false},
		{BM25{K1: 1.2, B: math.NaN()}, false},
	}
	for _, tt := range tests {
		if err := tt.p.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v.Validate() = %v, want ok=%v", tt.p, err, tt.ok)
		}
	}
}

// TestResolveBM25: unset parameters take each field's default, set ones
// stay, and invalid ones are refused, the Indonesian field's by name.
func TestResolveBM25(t *testing.T) {
	g, id, err := ResolveBM25(BM25{}, BM25{})
	if err != nil || g != DefaultBM25 || id != DefaultIndonesianBM25 {
		t.Errorf("ResolveBM25(zero, zero) = %v, %v, %v; want the defaults", g, id, err)
	}
	set := BM25{K1: 0.9, B: 0.4}
	if g, id, err := ResolveBM25(set, set); err != nil || g != set || id != set {
		t.Errorf("ResolveBM25(set, set) = %v, %v, %v; want them kept", g, id, err)
	}
	if _, _, err := ResolveBM25(BM25{K1: 1, B: 2}, BM25{}); err == nil || strings.Contains(err.Error(), "Indonesian") {
		t.Errorf("an invalid global b: %v, want an error not naming the Indonesian field", err)
	}
	if _, _, err := ResolveBM25(BM25{}, BM25{K1: -1}); err == nil || !strings.Contains(err.Error(), "Indonesian field") {
		t.Errorf("an invalid Indonesian k1: %v, want an error naming the Indonesian field", err)
	}
}
