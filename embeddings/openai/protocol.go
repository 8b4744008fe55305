package openai

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// embeddingsPath is the endpoint under the API root.
const embeddingsPath = "/embeddings"

// request is the body of POST /v1/embeddings.
type request struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
	Dimensions     int      `json:"dimensions,omitempty"`
}

// response is the successful answer. Embedding is a JSON array of numbers,
// or a base64 string of little-endian float32s from servers that send
// base64 whatever was asked.
type response struct {
	Data []struct {
		Index     *int            `json:"index"`
		Embedding json.RawMessage `json:"embedding"`
	} `json:"data"`
}

// maxResponseBytes bounds a response body: 32 inputs of 4096 dimensions
// as JSON text are about 10 MB.
const maxResponseBytes = 256 << 20

func (c *Client) requestBody(texts []string) ([]byte, error) {
	req := request{Model: c.opts.Model, Input: texts, EncodingFormat: "float"}
	if !c.opts.LocalTruncate {
		req.Dimensions = c.opts.Dimensions
	}
	return json.Marshal(req)
}

// decodeResponse checks that the answer has exactly one vector per input,
// each index once, all of one non-zero length with finite values, and
// returns them in input order.
func decodeResponse(data []byte, n int) ([][]float32, error) {
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	if len(r.Data) != n {
		return nil, fmt.Errorf("%d embeddings for %d inputs", len(r.Data), n)
	}
	out := make([][]float32, n)
	for pos, d := range r.Data {
		i := pos
		if d.Index != nil {
			i = *d.Index
		}
		if i < 0 || i >= n || out[i] != nil {
			return nil, fmt.Errorf("embedding index %d out of range or repeated", i)
		}
		v, err := decodeVector(d.Embedding)
		if err != nil {
			return nil, fmt.Errorf("embedding %d: %w", i, err)
		}
		if len(v) == 0 {
			return nil, fmt.Errorf("embedding %d is empty", i)
		}
		out[i] = v
	}
	dim := len(out[0])
	for i, v := range out {
		if len(v) != dim {
			return nil, fmt.Errorf("embedding %d has %d dimensions, embedding 0 has %d", i, len(v), dim)
		}
	}
	return out, nil
}

// decodeVector reads a JSON array of numbers or a base64 float32 string.
func decodeVector(raw json.RawMessage) ([]float32, error) {
	var v []float32
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b)%4 != 0 {
			return nil, errors.New("bad base64 vector")
		}
		v = make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	} else if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, errors.New("NaN or infinite value")
		}
	}
	return v, nil
}
