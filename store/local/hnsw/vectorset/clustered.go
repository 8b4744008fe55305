package vectorset

import "math/rand/v2"

// Clustered returns n vectors of dim dimensions scattered around a few
// random centres, the same for the same seed: data with the uneven density
// of real embeddings, on which a graph search can miss (uniform random
// vectors are either trivial or hopeless at small sizes).
func Clustered(n, dim int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([][]float32, 16)
	for i := range centres {
		centres[i] = make([]float32, dim)
		for j := range centres[i] {
			centres[i][j] = float32(rng.NormFloat64())
		}
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[rng.IntN(len(centres))]
		v := make([]float32, dim)
		for j := range v {
			v[j] = c[j] + float32(rng.NormFloat64()*0.6)
		}
		out[i] = v
	}
	return out
}
