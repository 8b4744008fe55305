package bench

import (
	"math/rand/v2"
	"testing"
)

func TestTermSamplerFollowsCounts(t *testing.T) {
	s, err := NewTermSampler(map[string]uint64{"cell": 6, "gene": 3, "rare": 1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	got := map[string]int{}
	const n = 100_000
	for range n {
		got[s.Draw(rng)]++
	}
	for w, share := range map[string]float64{"cell": 0.6, "gene": 0.3, "rare": 0.1} {
		if f := float64(got[w]) / n; f < share-0.01 || f > share+0.01 {
			t.Errorf("%q drawn %.3f of the time, want %.2f", w, f, share)
		}
	}
	if _, err := NewTermSampler(nil); err == nil {
		t.Error("a sampler of no words: no error")
	}
}
