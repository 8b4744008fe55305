package static

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// BuildOptions say how Build turns published word vectors into a model.
type BuildOptions struct {
	// Name, Source and License are recorded in the header.
	Name, Source, License string
	// MaxWords keeps the most frequent words the tokenizer can produce;
	// zero keeps them all. Rare words add size and little quality.
	MaxWords int
	// Quantization of the rows in the file; empty means Int8.
	Quantization Quantization
	// SIF weighting; the zero value means DefaultSIF.
	SIF SIFParams
	// NoComponent keeps the common discourse direction in the vectors
	// instead of removing it.
	NoComponent bool
}

// Build scales every word vector to unit length (which on SciFact's
// training queries beat GloVe's raw vectors, whose length grows with
// frequency), weights them by smooth inverse frequency, estimates the
// common discourse direction over the whole vocabulary, then prunes the
// vocabulary to what the tokenizer can look up and opts.MaxWords.
func Build(v *Vectors, opts BuildOptions) (*Table, error) {
	if v.Dim <= 0 || len(v.Rows) != len(v.Words)*v.Dim {
		return nil, fmt.Errorf("build model: %d values for %d words of dimension %d", len(v.Rows), len(v.Words), v.Dim)
	}
	v = unitRows(v)
	if opts.SIF == (SIFParams{}) {
		opts.SIF = DefaultSIF
	}
	if opts.Quantization == "" {
		opts.Quantization = Int8
	}
	p := zipfProbabilities(len(v.Words), opts.SIF.ZipfOffset)
	weights := sifWeights(p, opts.SIF.A)
	t := &Table{Header: Header{
		Name: opts.Name, Source: opts.Source, License: opts.License,
		Dim: v.Dim, Quantization: opts.Quantization, Tokenizer: tokenizerWords, SIF: opts.SIF,
	}}
	if !opts.NoComponent {
		t.Components = commonDirection(v.Rows, v.Dim, p, weights)
		t.Header.Components = 1
	}
	for i, w := range v.Words {
		if opts.MaxWords > 0 && len(t.Words) == opts.MaxWords {
			break
		}
		if !isLookupWord(w) {
			continue
		}
		t.Words = append(t.Words, w)
		t.Weights = append(t.Weights, weights[i])
		t.Rows = append(t.Rows, v.Rows[i*v.Dim:(i+1)*v.Dim]...)
	}
	t.Header.Words = len(t.Words)
	return t, t.validate()
}

// isLookupWord reports whether the tokenizer can ever look w up: w is one
// lower-case word by nextWord's rules, so punctuation, symbols and
// upper-case entries are pruned.
func isLookupWord(w string) bool {
	if w == "" || !utf8.ValidString(w) {
		return false
	}
	start, end := nextWord(w, 0)
	return start == 0 && end == len(w) && string(lowerInto(nil, w)) == w
}

// unitRows returns a copy of v with every row scaled to unit length.
func unitRows(v *Vectors) *Vectors {
	out := &Vectors{Words: v.Words, Dim: v.Dim, Rows: make([]float32, len(v.Rows))}
	for i := range v.Words {
		row := v.Rows[i*v.Dim : (i+1)*v.Dim]
		var norm float64
		for _, x := range row {
			norm += float64(x) * float64(x)
		}
		if norm == 0 {
			continue
		}
		inv := 1 / math.Sqrt(norm)
		for j, x := range row {
			out.Rows[i*v.Dim+j] = float32(float64(x) * inv)
		}
	}
	return out
}
