package static

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// m2vVocab is the tokenizer vocabulary of the test model.
var m2vVocab = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "sat", "dog", "##s", "run"}

// rawTensor is a tensor as the test writes it into a safetensors file.
type rawTensor struct {
	dtype string
	shape []int
	data  []byte
}

// writeSafetensors writes tensors in the safetensors format: header
// length, JSON header with byte offsets, data.
func writeSafetensors(t *testing.T, path string, tensors map[string]rawTensor) {
	t.Helper()
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var body []byte
	for _, name := range []string{"embeddings", "weights", "mapping"} {
		tn, ok := tensors[name]
		if !ok {
			continue
		}
		header[name] = map[string]any{"dtype": tn.dtype, "shape": tn.shape, "data_offsets": []int{len(body), len(body) + len(tn.data)}}
		body = append(body, tn.data...)
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(append(out, h...), body...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func f32Tensor(shape []int, vals []float32) rawTensor {
	b := make([]byte, 0, 4*len(vals))
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return rawTensor{"F32", shape, b}
}

func f16Tensor(shape []int, vals []float32) rawTensor {
	b := make([]byte, 0, 2*len(vals))
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint16(b, float16bits(v))
	}
	return rawTensor{"F16", shape, b}
}

func i64Tensor(vals []int64) rawTensor {
	b := make([]byte, 0, 8*len(vals))
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return rawTensor{"I64", []int{len(vals)}, b}
}

// writeModel2Vec writes a Model2Vec directory with a BERT WordPiece
// tokenizer (whose [CLS]/[SEP] template Model2Vec does not apply).
func writeModel2Vec(t *testing.T, tensors map[string]rawTensor) string {
	t.Helper()
	dir := t.TempDir()
	vocab := map[string]int{}
	for i, w := range m2vVocab {
		vocab[w] = i
	}
	tok := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil, "added_tokens": []any{},
		"normalizer":     map[string]any{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": nil, "lowercase": true},
		"pre_tokenizer":  map[string]any{"type": "BertPreTokenizer"},
		"post_processor": map[string]any{"type": "BertProcessing", "sep": []any{"[SEP]", 3}, "cls": []any{"[CLS]", 2}},
		"decoder":        nil,
		"model":          map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab},
	}
	b, _ := json.Marshal(tok)
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type": "model2vec", "normalize": true, "model_name": "tiny-m2v"}`), 0o644)
	writeSafetensors(t, filepath.Join(dir, "model.safetensors"), tensors)
	return dir
}

// m2vRows is a distinct row per token: row i has i+1 at position i%4.
func m2vRows(n, dim int) []float32 {
	rows := make([]float32, n*dim)
	for i := range n {
		rows[i*dim+i%dim] = float32(i + 1)
		rows[i*dim+(i+1)%dim] = 0.5
	}
	return rows
}

// m2vExpect is Model2Vec's encoding: mean of the rows (times weights) of
// the tokens, normalised.
func m2vExpect(rows []float32, dim int, weights []float32, tokens ...int) []float64 {
	v := make([]float64, dim)
	for _, id := range tokens {
		w := float32(1)
		if weights != nil {
			w = weights[id]
		}
		for j := range dim {
			v[j] += float64(w * rows[id*dim+j])
		}
	}
	var n float64
	for _, x := range v {
		n += x * x
	}
	for j := range v {
		v[j] /= math.Sqrt(n)
	}
	return v
}

func TestModel2Vec(t *testing.T) {
	const dim = 4
	n := len(m2vVocab)
	rows := m2vRows(n, dim)
	weights := make([]float32, n)
	for i := range weights {
		weights[i] = 1 + float32(i)/10
	}
	// "The cats sat, zebra!" tokenizes to the ##s cat sat [UNK] (dropped);
	// "," and "!" are [UNK] too.
	tokens := []int{4, 5, 8, 6}
	for _, tc := range []struct {
		name    string
		tensors map[string]rawTensor
		weights []float32
		tol     float64
	}{
		{"float32", map[string]rawTensor{"embeddings": f32Tensor([]int{n, dim}, rows)}, nil, 1e-6},
		{"float16", map[string]rawTensor{"embeddings": f16Tensor([]int{n, dim}, rows)}, nil, 1e-3},
		{"weights and mapping", map[string]rawTensor{
			// Rows stored in reverse; the mapping points each token at its row.
			"embeddings": f32Tensor([]int{n, dim}, reverseRows(rows, dim)),
			"weights":    f32Tensor([]int{n}, weights),
			"mapping":    i64Tensor(reversedIndex(n)),
		}, weights, 1e-6},
	} {
		m, err := Load(writeModel2Vec(t, tc.tensors))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if m.Dim() != dim || m.Name() != "tiny-m2v" {
			t.Errorf("%s: dim %d name %q", tc.name, m.Dim(), m.Name())
		}
		got := m.Embed("The cats sat, zebra!")
		want := m2vExpect(rows, dim, tc.weights, tokens...)
		for j := range dim {
			if math.Abs(float64(got[j])-want[j]) > tc.tol {
				t.Fatalf("%s: got %v, want %v", tc.name, got, want)
			}
		}
		if v := m.Embed("zebra"); norm(v) != 0 {
			t.Errorf("%s: only unknown tokens: %v, want zero", tc.name, v)
		}
	}
}

func TestModel2VecErrors(t *testing.T) {
	n := len(m2vVocab)
	for name, tensors := range map[string]map[string]rawTensor{
		"no embeddings":   {"weights": f32Tensor([]int{n}, make([]float32, n))},
		"too few rows":    {"embeddings": f32Tensor([]int{3, 4}, make([]float32, 12))},
		"bad byte count":  {"embeddings": {"F32", []int{n, 4}, make([]byte, 7)}},
		"bad dtype":       {"embeddings": {"U8", []int{n, 4}, make([]byte, 4*n)}},
		"mapping too far": {"embeddings": f32Tensor([]int{n, 4}, make([]float32, 4*n)), "mapping": i64Tensor(make([]int64, n-1))},
	} {
		if _, err := Load(writeModel2Vec(t, tensors)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func reverseRows(rows []float32, dim int) []float32 {
	n := len(rows) / dim
	out := make([]float32, len(rows))
	for i := range n {
		copy(out[(n-1-i)*dim:], rows[i*dim:(i+1)*dim])
	}
	return out
}

func reversedIndex(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(n - 1 - i)
	}
	return out
}
