package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file is an independent, plain-Go computation of the network that
// testdata/gen_model.py builds (BERT: embeddings, then encoder layers of
// multi-head self-attention and a GELU feed-forward block, each followed
// by a residual LayerNorm), in float64, from the weights stored in
// model.onnx itself. ONNX Runtime's results are checked against it.

const (
	refHidden = 32
	refHeads  = 2
	refInter  = 64
	refLayers = 2
	refEps    = 1e-12
)

// onnxInitializers reads the float and int64 initializers of an ONNX
// model file with the protobuf wire format: ModelProto.graph (7) ->
// GraphProto.initializer (5) -> TensorProto dims (1), data_type (2),
// float_data (4), int64_data (7), name (8), raw_data (9).
func onnxInitializers(t *testing.T, path string) map[string][]float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	graph := fieldBytes(t, data, 7)
	if len(graph) != 1 {
		t.Fatalf("model has %d graphs", len(graph))
	}
	out := make(map[string][]float64)
	for _, init := range fieldBytes(t, graph[0], 5) {
		name, values := decodeTensor(t, init)
		out[name] = values
	}
	return out
}

// fieldBytes returns every length-delimited value of field num in msg.
func fieldBytes(t *testing.T, msg []byte, num protowire.Number) [][]byte {
	t.Helper()
	var out [][]byte
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		if l < 0 {
			t.Fatal(protowire.ParseError(l))
		}
		msg = msg[l:]
		if typ == protowire.BytesType && n == num {
			v, l := protowire.ConsumeBytes(msg)
			if l < 0 {
				t.Fatal(protowire.ParseError(l))
			}
			out = append(out, v)
			msg = msg[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, msg)
		if l < 0 {
			t.Fatal(protowire.ParseError(l))
		}
		msg = msg[l:]
	}
	return out
}

// decodeTensor reads a TensorProto of FLOAT (1) or INT64 (7) values.
func decodeTensor(t *testing.T, msg []byte) (string, []float64) {
	t.Helper()
	var name string
	var dtype uint64
	var raw []byte
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		msg = msg[l:]
		switch {
		case n == 2 && typ == protowire.VarintType:
			v, l := protowire.ConsumeVarint(msg)
			dtype, msg = v, msg[l:]
		case n == 8 && typ == protowire.BytesType:
			v, l := protowire.ConsumeBytes(msg)
			name, msg = string(v), msg[l:]
		case n == 9 && typ == protowire.BytesType:
			v, l := protowire.ConsumeBytes(msg)
			raw, msg = v, msg[l:]
		default:
			l := protowire.ConsumeFieldValue(n, typ, msg)
			if l < 0 {
				t.Fatal(protowire.ParseError(l))
			}
			msg = msg[l:]
		}
	}
	var values []float64
	switch dtype {
	case 1:
		for i := 0; i+4 <= len(raw); i += 4 {
			values = append(values, float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))))
		}
	case 7:
		for i := 0; i+8 <= len(raw); i += 8 {
			values = append(values, float64(int64(binary.LittleEndian.Uint64(raw[i:]))))
		}
	default:
		t.Fatalf("initializer %s: data type %d", name, dtype)
	}
	return name, values
}

// refModel computes the tiny BERT's last hidden state for one sequence.
type refModel struct {
	w map[string][]float64
}

func (m refModel) get(name string) []float64 {
	v, ok := m.w[name]
	if !ok {
		panic("no initializer " + name)
	}
	return v
}

// forward returns [len(ids)][refHidden] hidden states; every token is
// attended (no padding: the reference runs each text alone).
func (m refModel) forward(ids, types []int) [][]float64 {
	word, pos, typ := m.get("embeddings.word_embeddings.weight"), m.get("embeddings.position_embeddings.weight"), m.get("embeddings.token_type_embeddings.weight")
	x := make([][]float64, len(ids))
	for i, id := range ids {
		x[i] = make([]float64, refHidden)
		for j := range refHidden {
			x[i][j] = word[id*refHidden+j] + pos[i*refHidden+j] + typ[types[i]*refHidden+j]
		}
	}
	x = m.layerNorm(x, "embeddings.LayerNorm")
	for l := range refLayers {
		x = m.layer(x, fmt.Sprintf("encoder.layer.%d", l))
	}
	return x
}

func (m refModel) layer(x [][]float64, p string) [][]float64 {
	q := m.linear(x, p+".attention.query", refHidden, refHidden)
	k := m.linear(x, p+".attention.key", refHidden, refHidden)
	v := m.linear(x, p+".attention.value", refHidden, refHidden)
	head := refHidden / refHeads
	ctx := make([][]float64, len(x))
	for i := range ctx {
		ctx[i] = make([]float64, refHidden)
	}
	for h := range refHeads {
		lo := h * head
		for i := range x {
			scores := make([]float64, len(x))
			top := math.Inf(-1)
			for j := range x {
				var s float64
				for d := range head {
					s += q[i][lo+d] * k[j][lo+d]
				}
				scores[j] = s / math.Sqrt(float64(head))
				top = math.Max(top, scores[j])
			}
			var z float64
			for j := range scores {
				scores[j] = math.Exp(scores[j] - top)
				z += scores[j]
			}
			for j := range x {
				for d := range head {
					ctx[i][lo+d] += scores[j] / z * v[j][lo+d]
				}
			}
		}
	}
	attn := m.linear(ctx, p+".attention.output", refHidden, refHidden)
	x = m.layerNorm(add(attn, x), p+".attention.LayerNorm")
	h := m.linear(x, p+".intermediate", refHidden, refInter)
	for _, row := range h {
		for j, a := range row {
			row[j] = 0.5 * a * (1 + math.Erf(a/math.Sqrt2))
		}
	}
	out := m.linear(h, p+".output", refInter, refHidden)
	return m.layerNorm(add(out, x), p+".output.LayerNorm")
}

// linear is x·W + b with W stored [in, out], as the graph's MatMul takes it.
func (m refModel) linear(x [][]float64, p string, in, out int) [][]float64 {
	w, b := m.get(p+".weight"), m.get(p+".bias")
	y := make([][]float64, len(x))
	for i, row := range x {
		y[i] = append([]float64(nil), b...)
		for a := range in {
			for c := range out {
				y[i][c] += row[a] * w[a*out+c]
			}
		}
	}
	return y
}

func (m refModel) layerNorm(x [][]float64, p string) [][]float64 {
	g, b := m.get(p+".weight"), m.get(p+".bias")
	for _, row := range x {
		var mean, variance float64
		for _, a := range row {
			mean += a
		}
		mean /= float64(len(row))
		for _, a := range row {
			variance += (a - mean) * (a - mean)
		}
		variance /= float64(len(row))
		for j, a := range row {
			row[j] = (a-mean)/math.Sqrt(variance+refEps)*g[j] + b[j]
		}
	}
	return x
}

func add(a, b [][]float64) [][]float64 {
	for i := range a {
		for j := range a[i] {
			a[i][j] += b[i][j]
		}
	}
	return a
}

// refPool pools hidden states as the model directory says and scales the
// result to unit length.
func refPool(h [][]float64, p Pooling) []float64 {
	v := make([]float64, refHidden)
	switch p {
	case PoolingCLS:
		copy(v, h[0])
	case PoolingLastToken:
		copy(v, h[len(h)-1])
	default:
		for _, row := range h {
			for j, a := range row {
				v[j] += a / float64(len(h))
			}
		}
	}
	var norm float64
	for _, a := range v {
		norm += a * a
	}
	for j := range v {
		v[j] /= math.Sqrt(norm)
	}
	return v
}
