package static

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// The model file format (little-endian throughout):
//
//	magic       8 bytes  "CARISVEC"
//	version     uint32   1
//	headerLen   uint32   length of the JSON header that follows
//	header      JSON     Header
//	vocabulary  Words times: uvarint byte length, UTF-8 bytes (row order)
//	weights     Words float32: each row's weight in the sentence average
//	scales      Words float32: int8 only, row = scale * int8 values
//	rows        Words*Dim values: int8, float16 (uint16 bits) or float32
//	components  Components*Dim float32: unit vectors removed from every
//	            sentence vector (the common discourse direction of SIF)
//	checksum    32 bytes: SHA-256 of everything before it
//
// Rows are stored as imported (not multiplied by their weights) so that a
// file can be re-weighted without re-importing. The checksum is checked on
// load and is the model's fingerprint.
const (
	fileMagic   = "CARISVEC"
	fileVersion = 1
	// maxHeaderLen bounds the JSON header a reader accepts.
	maxHeaderLen = 1 << 20
)

// Quantization is how a model file stores its rows.
type Quantization string

// Row encodings. Int8 stores each row as 8-bit integers with one float32
// scale per row (a quarter of float32's size, cosine error well under 1%);
// Float16 halves float32.
const (
	Int8    Quantization = "int8"
	Float16 Quantization = "float16"
	Float32 Quantization = "float32"
)

// Header describes a model file; it is stored as JSON at the start of the
// file and shown by "cari models info".
type Header struct {
	Name         string       `json:"name"`
	Source       string       `json:"source,omitempty"`
	License      string       `json:"license,omitempty"`
	Dim          int          `json:"dim"`
	Words        int          `json:"words"`
	Quantization Quantization `json:"quantization"`
	// Tokenizer names how text becomes rows; "words-lower" is the only one.
	Tokenizer  string `json:"tokenizer"`
	Components int    `json:"components"`
	// SIF records the weighting the weights were made with.
	SIF SIFParams `json:"sif"`
}

// SIFParams are the parameters of smooth inverse frequency weighting:
// weight(w) = A / (A + p(w)), with p(w) estimated from the word's
// frequency rank r by Zipf's law, p ∝ 1/(r + ZipfOffset).
type SIFParams struct {
	A          float64 `json:"a"`
	ZipfOffset float64 `json:"zipf_offset"`
}

// Table is the content of a model file with its rows in float32.
type Table struct {
	Header     Header
	Words      []string
	Weights    []float32
	Rows       []float32 // Words*Dim, row i belongs to Words[i]
	Components []float32 // Components*Dim
}

// validate checks that the table's parts agree with its header.
func (t *Table) validate() error {
	h := t.Header
	switch {
	case h.Dim <= 0:
		return fmt.Errorf("dimension %d", h.Dim)
	case h.Words != len(t.Words) || len(t.Weights) != h.Words:
		return fmt.Errorf("header says %d words, table has %d words and %d weights", h.Words, len(t.Words), len(t.Weights))
	case len(t.Rows) != h.Words*h.Dim:
		return fmt.Errorf("%d row values for %d words of %d dimensions", len(t.Rows), h.Words, h.Dim)
	case len(t.Components) != h.Components*h.Dim:
		return fmt.Errorf("%d component values for %d components", len(t.Components), h.Components)
	case h.Tokenizer != tokenizerWords:
		return fmt.Errorf("unknown tokenizer %q", h.Tokenizer)
	}
	switch h.Quantization {
	case Int8, Float16, Float32:
	default:
		return fmt.Errorf("unknown quantization %q", h.Quantization)
	}
	return nil
}

// tokenizerWords is the lower-cased word tokenizer of wordIDs.
const tokenizerWords = "words-lower"

// WriteTable writes t in the model file format, quantizing its rows as
// t.Header.Quantization says.
func WriteTable(w io.Writer, t *Table) error {
	if err := t.validate(); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	sum := sha256.New()
	bw := bufio.NewWriter(io.MultiWriter(w, sum))
	hdr, err := json.Marshal(t.Header)
	if err != nil {
		return err
	}
	bw.WriteString(fileMagic)
	writeUint32(bw, fileVersion)
	writeUint32(bw, uint32(len(hdr)))
	bw.Write(hdr)
	for _, word := range t.Words {
		bw.Write(binary.AppendUvarint(nil, uint64(len(word))))
		bw.WriteString(word)
	}
	writeFloats(bw, t.Weights)
	writeRows(bw, t.Rows, t.Header.Dim, t.Header.Quantization)
	writeFloats(bw, t.Components)
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err = w.Write(sum.Sum(nil))
	return err
}

func writeRows(w *bufio.Writer, rows []float32, dim int, q Quantization) {
	switch q {
	case Float32:
		writeFloats(w, rows)
	case Float16:
		for _, v := range rows {
			w.Write(binary.LittleEndian.AppendUint16(nil, float16bits(v)))
		}
	case Int8:
		n := len(rows) / dim
		scales := make([]float32, n)
		for i := range n {
			scales[i] = int8Scale(rows[i*dim : (i+1)*dim])
		}
		writeFloats(w, scales)
		for i := range n {
			for _, v := range rows[i*dim : (i+1)*dim] {
				w.WriteByte(byte(quantize(v, scales[i])))
			}
		}
	}
}

// int8Scale maps the row's largest magnitude to 127.
func int8Scale(row []float32) float32 {
	var m float32
	for _, v := range row {
		m = max(m, float32(math.Abs(float64(v))))
	}
	if m == 0 {
		return 1
	}
	return m / 127
}

func quantize(v, scale float32) int8 {
	return int8(max(-127, min(127, math.Round(float64(v/scale)))))
}

func writeUint32(w *bufio.Writer, v uint32) { w.Write(binary.LittleEndian.AppendUint32(nil, v)) }

func writeFloats(w *bufio.Writer, vs []float32) {
	var b [4]byte
	for _, v := range vs {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		w.Write(b[:])
	}
}

// ReadTable reads a whole model file, checks its checksum and returns its
// table with rows in float32, and the checksum.
func ReadTable(data []byte) (*Table, [sha256.Size]byte, error) {
	f, sum, err := decodeFile(data)
	if err != nil {
		return nil, sum, err
	}
	t := &Table{Header: f.header, Words: f.words, Weights: f.weights, Rows: f.rows, Components: f.components}
	if f.rows8 != nil {
		dim := f.header.Dim
		t.Rows = make([]float32, len(f.rows8))
		for i, q := range f.rows8 {
			t.Rows[i] = f.scales[i/dim] * float32(q)
		}
	}
	return t, sum, t.validate()
}

// decoded is a model file as stored: int8 rows stay int8, so that a
// loaded model takes a quarter of the memory.
type decoded struct {
	header     Header
	words      []string
	weights    []float32
	rows       []float32 // float16 and float32 files
	rows8      []int8    // int8 files, with scales
	scales     []float32
	components []float32
}

// decodeFile checks the magic, version and checksum of a model file and
// decodes it.
func decodeFile(data []byte) (*decoded, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	if len(data) < len(fileMagic)+8+sha256.Size || !isModelFile(data) {
		return nil, sum, errors.New("not a Cari static model file (bad magic)")
	}
	body := data[:len(data)-sha256.Size]
	copy(sum[:], data[len(body):])
	if sha256.Sum256(body) != sum {
		return nil, sum, errors.New("checksum mismatch: the file is damaged or truncated")
	}
	r := &reader{buf: body[len(fileMagic):]}
	if v := r.uint32(); v != fileVersion {
		return nil, sum, fmt.Errorf("format version %d, this build reads %d", v, fileVersion)
	}
	f, err := r.file()
	if err == nil && len(r.buf) != 0 {
		err = fmt.Errorf("%d bytes after the components", len(r.buf))
	}
	if err != nil {
		return nil, sum, err
	}
	return f, sum, nil
}

// reader decodes a byte slice front to back, remembering the first error.
type reader struct {
	buf []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.buf) {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	b := r.buf[:n]
	r.buf = r.buf[n:]
	return b
}

func (r *reader) uint32() uint32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *reader) floats(n int) []float32 {
	b := r.take(4 * n)
	if b == nil {
		return nil
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func (r *reader) file() (*decoded, error) {
	n := r.uint32()
	if n > maxHeaderLen {
		return nil, fmt.Errorf("header of %d bytes", n)
	}
	f := &decoded{}
	if hdr := r.take(int(n)); hdr != nil {
		if err := json.Unmarshal(hdr, &f.header); err != nil {
			return nil, fmt.Errorf("header: %w", err)
		}
	}
	h := f.header
	if r.err != nil || h.Words < 0 || h.Dim <= 0 || h.Words > len(r.buf) || h.Dim > len(r.buf) || h.Components < 0 || h.Components > 1024 {
		return nil, fmt.Errorf("header: %d words of dimension %d, %d components", h.Words, h.Dim, h.Components)
	}
	if h.Tokenizer != tokenizerWords {
		return nil, fmt.Errorf("unknown tokenizer %q", h.Tokenizer)
	}
	f.words = make([]string, h.Words)
	for i := range f.words {
		l, k := binary.Uvarint(r.buf)
		if k <= 0 {
			return nil, fmt.Errorf("vocabulary entry %d: bad length", i)
		}
		r.take(k)
		f.words[i] = string(r.take(int(l)))
	}
	f.weights = r.floats(h.Words)
	r.rows(f, h.Words*h.Dim)
	f.components = r.floats(h.Components * h.Dim)
	return f, r.err
}

// rows decodes n row values into f.
func (r *reader) rows(f *decoded, n int) {
	switch f.header.Quantization {
	case Float32:
		f.rows = r.floats(n)
	case Float16:
		b := r.take(2 * n)
		if b == nil {
			return
		}
		f.rows = make([]float32, n)
		for i := range f.rows {
			f.rows[i] = float16value(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case Int8:
		f.scales = r.floats(f.header.Words)
		b := r.take(n)
		if b == nil {
			return
		}
		f.rows8 = make([]int8, n)
		for i, c := range b {
			f.rows8[i] = int8(c)
		}
	default:
		r.err = fmt.Errorf("unknown quantization %q", f.header.Quantization)
	}
}

// isModelFile reports whether data starts like a model file.
func isModelFile(data []byte) bool { return bytes.HasPrefix(data, []byte(fileMagic)) }
