package static

import (
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"sync"

	"github.com/sugarme/tokenizer"
)

// Model is a loaded static embedding model: a vector per vocabulary entry,
// averaged over a text's tokens. It is safe for concurrent use.
type Model struct {
	header      Header
	fingerprint string
	dim         int
	// vocab maps words to rows for the words tokenizer; tok replaces it
	// for tokenizer.json (Model2Vec) models.
	vocab map[string]int32
	tok   *tokenizer.Tokenizer
	tokMu sync.Mutex // the tokenizer's caches are not safe for concurrent use
	unk   int32      // the tokenizer's unknown token, dropped; -1 if none
	// Rows, already multiplied by their weights: either float32 in table,
	// or int8 in rows8 times the per-row factor.
	table      []float32
	rows8      []int8
	factor     []float32
	components []float32
	scratch    sync.Pool // *scratch
}

type scratch struct {
	ids []int32
	buf []byte
	sum []float32
}

// Load reads a static model: a Cari model file (see WriteTable) or a
// Model2Vec directory (model.safetensors and tokenizer.json).
func Load(path string) (*Model, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load static model: %w", err)
	}
	if fi.IsDir() {
		m, err := loadModel2Vec(path)
		if err != nil {
			return nil, fmt.Errorf("load Model2Vec model %s: %w", path, err)
		}
		return m, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load static model: %w", err)
	}
	if !isModelFile(data) {
		return nil, fmt.Errorf("load static model %s: not a Cari model file; make one with \"cari models import\"", path)
	}
	f, sum, err := decodeFile(data)
	if err != nil {
		return nil, fmt.Errorf("load static model %s: %w", path, err)
	}
	return newModel(f, sum[:]), nil
}

// FromTable makes a model of an in-memory table, fingerprinted by the
// checksum its file would have.
func FromTable(t *Table) (*Model, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	sum, err := tableChecksum(t)
	if err != nil {
		return nil, err
	}
	f := &decoded{header: t.Header, words: t.Words, weights: t.Weights, rows: t.Rows, components: t.Components}
	return newModel(f, sum), nil
}

func newModel(f *decoded, checksum []byte) *Model {
	h := f.header
	m := &Model{
		header:      h,
		fingerprint: hex.EncodeToString(checksum),
		dim:         h.Dim,
		vocab:       make(map[string]int32, len(f.words)),
		unk:         -1,
		components:  f.components,
	}
	for i, w := range f.words {
		if _, dup := m.vocab[w]; !dup {
			m.vocab[w] = int32(i)
		}
	}
	if f.rows8 != nil {
		m.rows8 = f.rows8
		m.factor = make([]float32, len(f.words))
		for i := range m.factor {
			m.factor[i] = f.weights[i] * f.scales[i]
		}
		return m
	}
	m.table = make([]float32, len(f.rows))
	for i, v := range f.rows {
		m.table[i] = f.weights[i/h.Dim] * v
	}
	return m
}

// Header describes the model: name, source, size and weighting.
func (m *Model) Header() Header { return m.header }

// Name is the model's name from its file.
func (m *Model) Name() string { return m.header.Name }

// Fingerprint is the hex SHA-256 of the model's file(s): it changes
// whenever the vectors could.
func (m *Model) Fingerprint() string { return m.fingerprint }

// Dim is the length of the vectors Embed returns.
func (m *Model) Dim() int { return m.dim }

// Embed returns the vector of text: the weighted average of its tokens'
// rows, with the common components removed, scaled to unit length. A
// text with no known token gets the zero vector.
func (m *Model) Embed(text string) []float32 {
	s, _ := m.scratch.Get().(*scratch)
	if s == nil {
		s = &scratch{sum: make([]float32, m.dim)}
	}
	defer m.scratch.Put(s)
	s.ids = m.tokenIDs(text, s)
	out := make([]float32, m.dim)
	if len(s.ids) == 0 {
		return out
	}
	sum := s.sum[:m.dim]
	clear(sum)
	m.accumulate(sum, s.ids)
	m.removeComponents(sum)
	scaleToUnit(out, sum)
	return out
}

// accumulate adds the weighted rows of ids to sum. The average's 1/n is
// left out: it cancels when the vector is scaled to unit length.
func (m *Model) accumulate(sum []float32, ids []int32) {
	dim := m.dim
	if m.rows8 != nil {
		for _, id := range ids {
			f := m.factor[id]
			row := m.rows8[int(id)*dim : (int(id)+1)*dim]
			for j, q := range row {
				sum[j] += f * float32(q)
			}
		}
		return
	}
	for _, id := range ids {
		row := m.table[int(id)*dim : (int(id)+1)*dim]
		for j, v := range row {
			sum[j] += v
		}
	}
}

// tokenIDs returns the rows of text's tokens, in s.ids's storage.
func (m *Model) tokenIDs(text string, s *scratch) []int32 {
	if m.tok != nil {
		return m.hfTokenIDs(text, s.ids[:0])
	}
	var ids []int32
	ids, s.buf = wordIDs(text, m.vocab, s.ids[:0], s.buf)
	return ids
}

func (m *Model) removeComponents(v []float32) {
	for c := 0; c+m.dim <= len(m.components); c += m.dim {
		u := m.components[c : c+m.dim]
		var dot float64
		for j, x := range u {
			dot += float64(x) * float64(v[j])
		}
		for j, x := range u {
			v[j] -= float32(dot) * x
		}
	}
}

// scaleToUnit writes v scaled to unit length into out; a zero v stays zero.
func scaleToUnit(out, v []float32) {
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	if norm == 0 {
		return
	}
	inv := 1 / math.Sqrt(norm)
	for j, x := range v {
		out[j] = float32(float64(x) * inv)
	}
}

// tableChecksum returns the checksum the table's file would end with.
func tableChecksum(t *Table) ([]byte, error) {
	var w checksumWriter
	if err := WriteTable(&w, t); err != nil {
		return nil, err
	}
	return w.last[:], nil
}

// checksumWriter discards what is written but its last 32 bytes.
type checksumWriter struct{ last [32]byte }

func (w *checksumWriter) Write(p []byte) (int, error) {
	if len(p) >= len(w.last) {
		copy(w.last[:], p[len(p)-len(w.last):])
	} else {
		copy(w.last[:], w.last[len(p):])
		copy(w.last[len(w.last)-len(p):], p)
	}
	return len(p), nil
}
