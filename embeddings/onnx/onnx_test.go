package onnx

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

const tinyBERT = "testdata/tiny-bert"

// runtimeLibrary finds the ONNX Runtime library "make models" unpacks (or
// ONNXRUNTIME_LIB names) or skips the test.
func runtimeLibrary(t *testing.T) string {
	t.Helper()
	lib := RuntimeLibrary(filepath.Join("..", "..", "models"))
	if lib == "" {
		t.Skip(`ONNX Runtime not found in ../../models/onnxruntime: run "make models" (scripts/fetch-models.sh) or set ONNXRUNTIME_LIB`)
	}
	return lib
}

func loadTiny(t *testing.T, opts Options) *Model {
	t.Helper()
	opts.Dir, opts.Library = tinyBERT, runtimeLibrary(t)
	m, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

var testTexts = []string{
	"The cat sat on the mat.",
	"search engine",
	"playing runs played, unable!",
	"中文 dog's 2023",
	"",
}

// TestMatchesReference runs the tiny BERT through ONNX Runtime, in one
// padded batch, and checks every pooled vector against the plain-Go
// reference computation of the same network on the same token ids.
func TestMatchesReference(t *testing.T) {
	ref := refModel{onnxInitializers(t, filepath.Join(tinyBERT, "model.onnx"))}
	for _, p := range []Pooling{PoolingMean, PoolingCLS, PoolingLastToken} {
		m := loadTiny(t, Options{Pooling: p})
		if m.Dim() != refHidden {
			t.Fatalf("dim %d, want %d", m.Dim(), refHidden)
		}
		got, err := m.Embed(context.Background(), testTexts)
		if err != nil {
			t.Fatal(err)
		}
		for i, text := range testTexts {
			enc, err := m.tok.EncodeSingle(text, true)
			if err != nil {
				t.Fatal(err)
			}
			want := refPool(ref.forward(enc.Ids, enc.TypeIds), p)
			if d := maxDiff(got[i], want); d > 1e-5 {
				t.Errorf("%s pooling, %q: differs from the reference by %g\n got %v\nwant %v", p, text, d, got[i][:4], want[:4])
			}
		}
	}
}

// TestBatchIndependent checks that padding is masked: a text embeds the
// same alone as beside longer texts.
func TestBatchIndependent(t *testing.T) {
	m := loadTiny(t, Options{})
	batch, err := m.Embed(context.Background(), testTexts)
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range testTexts {
		alone, err := m.Embed(context.Background(), []string{text})
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(alone[0], toFloat64(batch[i])); d > 1e-5 {
			t.Errorf("%q: alone and batched differ by %g", text, d)
		}
	}
}

// TestTruncation checks that texts longer than sentence_bert_config.json's
// max_seq_length (16) are cut, not refused, and that an explicit
// MaxTokens overrides it and changes the fingerprint.
func TestTruncation(t *testing.T) {
	m := loadTiny(t, Options{})
	if m.maxTokens != 16 {
		t.Errorf("max tokens %d, want 16 from sentence_bert_config.json", m.maxTokens)
	}
	long := strings.Repeat("the cat sat on the mat ", 40)
	b, err := m.encode([]string{long, "dog"})
	if err != nil {
		t.Fatal(err)
	}
	if b.cols != 16 || b.ids[15] != 3 || b.mask[16+3] != 0 {
		t.Errorf("batch %d wide, ids %v, mask %v", b.cols, b.ids, b.mask)
	}
	if _, err := m.Embed(context.Background(), []string{long}); err != nil {
		t.Fatal(err)
	}
	m8 := loadTiny(t, Options{MaxTokens: 8})
	if m8.Fingerprint() == m.Fingerprint() {
		t.Error("a different truncation has the same fingerprint")
	}
}

func TestCancelled(t *testing.T) {
	m := loadTiny(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Embed(ctx, testTexts); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestRuntimeVersion(t *testing.T) {
	v, err := RuntimeVersion(runtimeLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ONNX Runtime %s", v)
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(Options{Dir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "model.onnx") {
		t.Errorf("empty directory: %v", err)
	}
}

func maxDiff(got []float32, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d float64
	for i := range got {
		d = math.Max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}

func toFloat64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
