package static

import (
	"math"
	"sync"
	"testing"
)

const testModelPath = "testdata/glove-5k.cvec"

func loadTestModel(t *testing.T) *Model {
	t.Helper()
	m, err := Load(testModelPath)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTestModel checks the committed model: the 5,000 most frequent words
// of GloVe 6B 100d, imported by "cari models import --max-words 5000" with
// the default weighting.
func TestTestModel(t *testing.T) {
	m := loadTestModel(t)
	h := m.Header()
	if m.Dim() != 100 || h.Words != 5000 || h.Quantization != Int8 || h.Components != 1 || h.SIF != DefaultSIF {
		t.Errorf("header %+v", h)
	}
	if len(m.Fingerprint()) != 64 {
		t.Errorf("fingerprint %q", m.Fingerprint())
	}
}

func TestEmbed(t *testing.T) {
	m := loadTestModel(t)
	v := m.Embed("The patients were treated with a new drug.")
	if n := norm(v); math.Abs(n-1) > 1e-5 {
		t.Errorf("norm %g, want 1", n)
	}
	if n := norm(m.Embed("zxqv ..., !!")); n != 0 {
		t.Errorf("text with no known word: norm %g, want the zero vector", n)
	}
	if n := norm(m.Embed("")); n != 0 {
		t.Errorf("empty text: norm %g", n)
	}
	if a, b := m.Embed("Cancer patients"), m.Embed("cancer PATIENTS!"); dot(a, b) < 0.99999 {
		t.Errorf("case and punctuation change the vector: cosine %g", dot(a, b))
	}
}

// TestEmbedSimilarity checks that the vectors carry meaning: related
// sentences are closer than unrelated ones.
func TestEmbedSimilarity(t *testing.T) {
	m := loadTestModel(t)
	for _, tc := range []struct{ a, near, far string }{
		{"the treatment of cancer patients in hospital", "doctors gave the sick people a new drug", "the team won the football match on sunday"},
		{"stock markets fell as investors sold shares", "the bank said prices and trading dropped", "the children played music at the school"},
	} {
		a, near, far := m.Embed(tc.a), m.Embed(tc.near), m.Embed(tc.far)
		if dot(a, near) <= dot(a, far) {
			t.Errorf("%q: near %q %.3f, far %q %.3f", tc.a, tc.near, dot(a, near), tc.far, dot(a, far))
		}
	}
}

// TestCommonComponentRemoved checks that sentence vectors have no part
// along the stored common direction.
func TestCommonComponentRemoved(t *testing.T) {
	m := loadTestModel(t)
	v := m.Embed("the people of the city said that it was a good year")
	if d := dot(v, m.components[:m.dim]); math.Abs(float64(d)) > 1e-5 {
		t.Errorf("projection on the common direction %g", d)
	}
}

func TestEmbedConcurrent(t *testing.T) {
	m := loadTestModel(t)
	want := m.Embed("the market and the city")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if got := m.Embed("the market and the city"); dot(got, want) < 0.99999 {
					t.Error("concurrent embedding differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestFromTableMatchesLoad(t *testing.T) {
	tab, err := Build(testVectors(100, 8), BuildOptions{Name: "t", Quantization: Float32})
	if err != nil {
		t.Fatal(err)
	}
	m, err := FromTable(tab)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name() != "t" || m.Dim() != 8 || len(m.Fingerprint()) != 64 {
		t.Errorf("model %q dim %d fingerprint %q", m.Name(), m.Dim(), m.Fingerprint())
	}
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}
