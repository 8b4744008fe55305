package static

import "math"

// Smooth inverse frequency (Arora, Liang and Ma, "A Simple but Tough-to-
// Beat Baseline for Sentence Embeddings", ICLR 2017): a sentence vector is
// the average of its word vectors, each weighted a/(a + p(w)), minus its
// projection on the common discourse direction shared by all sentences.

// DefaultSIF is the weighting "cari models import" uses, chosen on
// SciFact's training queries (docs/EMBEDDINGS.md has the figures).
var DefaultSIF = SIFParams{A: 1e-5, ZipfOffset: 2.7}

// zipfProbabilities estimates each word's unigram probability from its
// 1-based frequency rank among n words, by the Zipf-Mandelbrot law
// p(r) = 1 / ((r + offset) * H), H the normalising sum. GloVe's vocabulary
// is in descending corpus frequency, so rank is all it needs.
func zipfProbabilities(n int, offset float64) []float64 {
	p := make([]float64, n)
	var h float64
	for r := range n {
		p[r] = 1 / (float64(r+1) + offset)
		h += p[r]
	}
	for r := range p {
		p[r] /= h
	}
	return p
}

// sifWeights returns a/(a + p) for each probability.
func sifWeights(p []float64, a float64) []float32 {
	w := make([]float32, len(p))
	for i, pi := range p {
		w[i] = float32(a / (a + pi))
	}
	return w
}

// commonDirection estimates the common discourse direction that SIF
// removes without a text sample: the first principal component (uncentred,
// as Arora et al. compute it) of the weighted word vectors w(x)·v(x) with
// each word x drawn from the unigram distribution p, that is the top
// eigenvector of sum_x p(x) w(x)² v(x) v(x)ᵀ. On SciFact's training
// queries this beat both the mean weighted word vector and the principal
// component of the SciFact documents' own SIF vectors (docs/EMBEDDINGS.md).
func commonDirection(rows []float32, dim int, p []float64, weights []float32) []float32 {
	moment := make([]float64, dim*dim)
	for i, pi := range p {
		s := pi * float64(weights[i]) * float64(weights[i])
		row := rows[i*dim : (i+1)*dim]
		for a, va := range row {
			sa := s * float64(va)
			out := moment[a*dim : a*dim+a+1]
			for b := range out {
				out[b] += sa * float64(row[b])
			}
		}
	}
	for a := range dim {
		for b := range a {
			moment[b*dim+a] = moment[a*dim+b]
		}
	}
	return topEigenvector(moment, dim)
}

// topEigenvector finds the eigenvector of the largest eigenvalue of the
// symmetric positive semi-definite matrix m by power iteration.
func topEigenvector(m []float64, dim int) []float32 {
	u := make([]float64, dim)
	for i := range u {
		u[i] = 1 / math.Sqrt(float64(dim))
	}
	next := make([]float64, dim)
	for range 500 {
		for a := range dim {
			var s float64
			for b, x := range m[a*dim : (a+1)*dim] {
				s += x * u[b]
			}
			next[a] = s
		}
		var norm, delta float64
		for _, x := range next {
			norm += x * x
		}
		norm = math.Sqrt(norm)
		if norm == 0 {
			break
		}
		for a := range next {
			x := next[a] / norm
			delta += (x - u[a]) * (x - u[a])
			u[a] = x
		}
		if delta < 1e-24 {
			break
		}
	}
	return unit(u)
}

// unit returns v scaled to length 1 as float32 (v itself if it is zero).
func unit(v []float64) []float32 {
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	norm = math.Sqrt(norm)
	out := make([]float32, len(v))
	for i, x := range v {
		if norm > 0 {
			x /= norm
		}
		out[i] = float32(x)
	}
	return out
}
