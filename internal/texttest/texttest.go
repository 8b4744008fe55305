// Package texttest makes deterministic prose for tests: pages whose main
// text must be told from their furniture, and near-duplicates that must
// hash alike, need many words that read like text and repeat from run to
// run. The crawler's and the extractor's tests build their pages from it.
package texttest

import (
	"math/rand/v2"
	"strings"
)

// Words returns n words drawn from a small vocabulary by a generator seeded
// with seed, with a full stop every twelve words: the same seed gives the
// same text.
func Words(seed uint64, n int) string {
	vocab := strings.Fields(`river mountain engine harbour lantern orchard compass meadow
		thunder silver garden anchor canyon falcon glacier harvest island jungle kettle ladder
		marble needle ocean pepper quartz saddle timber umbrella velvet walnut yellow zephyr
		bridge candle desert ember forest gravel hollow ivory jasmine kernel lumber mirror`)
	r := rand.New(rand.NewPCG(seed, seed))
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
			if i%12 == 0 {
				b.WriteString(". ")
			}
		}
		b.WriteString(vocab[r.IntN(len(vocab))])
	}
	return b.String()
}
