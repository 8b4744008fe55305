package hnsw

import (
	"strconv"
	"testing"

	"github.com/cari-search/cari/store/local/hnsw/vectorset"
)

// TestEfSearchManyPassages: on documents of many passages the list starts
// at limit times the passages of an average document, scaled by EfSearch
// against the default, so that the default searches as before and a
// shorter EfSearch still shortens the walk (and loses recall) there.
func TestEfSearchManyPassages(t *testing.T) {
	const docs, per, dim = 300, 20, 64 // enough dimensions that a short list misses some nearest passages
	vecs := vectorset.Clustered(docs*per+100, dim, 31)
	w := twin{New(dim, DefaultParams()), NewFlat(dim)}
	w.ann.p.ExactBelow = -1
	for d := range docs {
		w.Put(t, "d"+strconv.Itoa(d), vecs[d*per:(d+1)*per]...)
	}
	if got := w.ann.startEf(10); got != 10*per {
		t.Errorf("default EfSearch starts a top-10 search at %d candidates, want %d (10 documents of %d passages)", got, 10*per, per)
	}
	queries := vecs[docs*per:]
	def := w.recall(t, queries, nil)
	w.ann.p.EfSearch = 16
	if got, want := w.ann.startEf(10), (10*per*16+DefaultEfSearch-1)/DefaultEfSearch; got != want {
		t.Errorf("EfSearch 16 starts a top-10 search at %d candidates, want %d", got, want)
	}
	low := w.recall(t, queries, nil)
	t.Logf("recall@10 on %d documents of %d passages: EfSearch 16 %.3f, default %.3f", docs, per, low, def)
	if !(low < def) {
		t.Errorf("recall@10 with EfSearch 16 is %.3f, with the default %.3f: want lower", low, def)
	}
}
