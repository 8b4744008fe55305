package static

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testVectors is a small random vocabulary in "frequency" order.
func testVectors(n, dim int) *Vectors {
	r := rand.New(rand.NewPCG(1, 2))
	v := &Vectors{Dim: dim, Rows: make([]float32, n*dim)}
	for i := range n {
		v.Words = append(v.Words, "w"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('a'+i/26%26)))
	}
	v.Words[3] = ","   // punctuation: pruned
	v.Words[4] = "The" // upper case: pruned
	for i := range v.Rows {
		v.Rows[i] = float32(r.NormFloat64())
	}
	return v
}

func TestFormatRoundTrip(t *testing.T) {
	v := testVectors(300, 16)
	for _, q := range []Quantization{Float32, Float16, Int8} {
		tab, err := Build(v, BuildOptions{Name: "test", Quantization: q, MaxWords: 200})
		if err != nil {
			t.Fatal(err)
		}
		if tab.Header.Words != 200 || tab.Words[3] == "," || tab.Words[4] == "The" {
			t.Fatalf("%s: %d words, pruning kept %q %q", q, tab.Header.Words, tab.Words[3], tab.Words[4])
		}
		var buf bytes.Buffer
		if err := WriteTable(&buf, tab); err != nil {
			t.Fatal(err)
		}
		got, sum, err := ReadTable(buf.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got.Header != tab.Header || !equalStrings(got.Words, tab.Words) {
			t.Fatalf("%s: header or words differ", q)
		}
		tol := map[Quantization]float64{Float32: 0, Float16: 1e-3, Int8: 1.0 / 127}[q]
		for i, x := range tab.Rows {
			if d := math.Abs(float64(got.Rows[i] - x)); d > tol {
				t.Fatalf("%s: row value %d: %g vs %g", q, i, got.Rows[i], x)
			}
		}
		want, _ := tableChecksum(tab)
		if !bytes.Equal(sum[:], want) {
			t.Errorf("%s: checksum %x, in-memory %x", q, sum, want)
		}
	}
}

func TestReadTableRejectsDamage(t *testing.T) {
	tab, err := Build(testVectors(50, 8), BuildOptions{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, tab); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 1
	for name, data := range map[string][]byte{
		"empty":     nil,
		"bad magic": append([]byte("NOTCARI!"), good[8:]...),
		"flipped":   flipped,
		"truncated": good[:len(good)-10],
	} {
		if _, _, err := ReadTable(data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.cvec")
	os.WriteFile(path, flipped, 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("Load of a damaged file: %v", err)
	}
	os.WriteFile(path, []byte("plain text"), 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "cari models import") {
		t.Errorf("Load of a foreign file: %v", err)
	}
}

func TestFloat16(t *testing.T) {
	for _, f := range []float32{0, 1, -1, 0.5, 65504, -2.5, 1e-5, 6e-8, 3.14159} {
		got := float16value(float16bits(f))
		if d := math.Abs(float64(got - f)); d > math.Abs(float64(f))*1e-3+6e-8 {
			t.Errorf("%g -> %g", f, got)
		}
	}
	if !math.IsInf(float64(float16value(float16bits(1e6))), 1) {
		t.Error("1e6 should overflow to +Inf")
	}
	if float16value(float16bits(float32(math.NaN()))) == float16value(float16bits(float32(math.NaN()))) {
		t.Error("NaN should stay NaN")
	}
	if bfloat16value(0x3f80) != 1 {
		t.Error("bfloat16 1.0")
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
