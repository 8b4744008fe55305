package extract

import (
	"math/rand/v2"
	"strings"
)

// pythonDocs is where Debian's python3.11-doc puts the Python
// documentation: 530 interlinked HTML pages, real pages to extract.
const pythonDocs = "/usr/share/doc/python3.11/html"

// words makes n words of deterministic text, the same text as the
// crawler's tests make for their pages.
func words(seed uint64, n int) string {
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
