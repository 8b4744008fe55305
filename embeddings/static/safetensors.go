package static

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// tensor is one tensor of a safetensors file, converted to float32 or,
// for integer tensors, int64.
type tensor struct {
	shape  []int
	floats []float32
	ints   []int64
}

// maxSafetensorsHeader bounds the JSON header, as the format's reference
// implementation does (100 MB).
const maxSafetensorsHeader = 100 << 20

// readSafetensors decodes the named tensors of a safetensors file
// (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}}, then
// the raw little-endian data. Tensors not named are skipped; a named one
// that is missing is simply absent from the result.
func readSafetensors(data []byte, names ...string) (map[string]tensor, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("safetensors: %d bytes", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > maxSafetensorsHeader || 8+n > uint64(len(data)) {
		return nil, fmt.Errorf("safetensors: header of %d bytes in a file of %d", n, len(data))
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		return nil, fmt.Errorf("safetensors header: %w", err)
	}
	body := data[8+n:]
	out := make(map[string]tensor)
	for _, name := range names {
		raw, ok := header[name]
		if !ok {
			continue
		}
		t, err := decodeTensor(raw, body)
		if err != nil {
			return nil, fmt.Errorf("safetensors tensor %q: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

func decodeTensor(raw json.RawMessage, body []byte) (tensor, error) {
	var info struct {
		Dtype   string  `json:"dtype"`
		Shape   []int   `json:"shape"`
		Offsets []int64 `json:"data_offsets"`
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		return tensor{}, err
	}
	count := 1
	for _, d := range info.Shape {
		if d < 0 || d > math.MaxInt32 {
			return tensor{}, fmt.Errorf("shape %v", info.Shape)
		}
		count *= d
	}
	if len(info.Offsets) != 2 || info.Offsets[0] < 0 || info.Offsets[1] < info.Offsets[0] || info.Offsets[1] > int64(len(body)) {
		return tensor{}, fmt.Errorf("data offsets %v outside %d bytes", info.Offsets, len(body))
	}
	b := body[info.Offsets[0]:info.Offsets[1]]
	size, ok := map[string]int{"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4}[info.Dtype]
	if !ok {
		return tensor{}, fmt.Errorf("unsupported dtype %s", info.Dtype)
	}
	if len(b) != count*size {
		return tensor{}, fmt.Errorf("%d bytes for %d values of %s", len(b), count, info.Dtype)
	}
	t := tensor{shape: info.Shape}
	switch info.Dtype {
	case "I64":
		t.ints = make([]int64, count)
		for i := range t.ints {
			t.ints[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case "I32":
		t.ints = make([]int64, count)
		for i := range t.ints {
			t.ints[i] = int64(int32(binary.LittleEndian.Uint32(b[4*i:])))
		}
	default:
		t.floats = make([]float32, count)
		for i := range t.floats {
			t.floats[i] = floatAt(b, i, info.Dtype)
		}
	}
	return t, nil
}

func floatAt(b []byte, i int, dtype string) float32 {
	switch dtype {
	case "F32":
		return math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	case "F16":
		return float16value(binary.LittleEndian.Uint16(b[2*i:]))
	case "BF16":
		return bfloat16value(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
}
