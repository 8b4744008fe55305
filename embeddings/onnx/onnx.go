// Package onnx runs a sentence-embedding model exported to ONNX
// (all-MiniLM-L6-v2, bge-small, multilingual-e5-small, Qwen3-Embedding
// exports) in-process with ONNX Runtime, through
// github.com/yalue/onnxruntime_go. A model directory holds, as the
// sentence-transformers and Optimum exports lay it out:
//
//	model.onnx or onnx/model.onnx   the network (plus model.onnx_data if external)
//	tokenizer.json                  the Hugging Face tokenizer
//	1_Pooling/config.json           pooling: mean (default), CLS or last token
//	sentence_bert_config.json       max_seq_length, the truncation length
//
// Texts are tokenized with special tokens, truncated, padded to the
// longest in the batch, run through the network, pooled over the
// attention mask and scaled to unit length.
//
// ONNX Runtime is a shared library loaded at run time: the system's, or
// the one "make models" unpacks from the onnxruntime-node npm package.
// Cari never downloads it. Builds without cgo have no ONNX provider.
package onnx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/sugarme/tokenizer"

	"github.com/cari-search/cari/embeddings/tokenizerjson"
)

// Pooling turns per-token vectors into one vector per text.
type Pooling string

// Poolings sentence-transformers models use.
const (
	PoolingMean      Pooling = "mean"      // average over attended tokens (MiniLM, E5)
	PoolingCLS       Pooling = "cls"       // the first token (BGE)
	PoolingLastToken Pooling = "lasttoken" // the last attended token (Qwen3-Embedding)
)

// DefaultMaxTokens truncates inputs when the model directory does not say.
const DefaultMaxTokens = 512

// Options configure Load. Dir is required.
type Options struct {
	Dir string
	// Library is the path of libonnxruntime.so; empty lets the dynamic
	// linker find it. ONNX Runtime is loaded once per process: a later
	// Load with another path fails.
	Library string
	// MaxTokens truncates inputs (special tokens included); zero reads
	// max_seq_length from sentence_bert_config.json, else DefaultMaxTokens.
	MaxTokens int
	// Pooling overrides 1_Pooling/config.json.
	Pooling Pooling
	// Threads caps ONNX Runtime's intra-op threads; zero is its default.
	Threads int
}

// Model is a loaded ONNX sentence-embedding model, safe for concurrent use.
type Model struct {
	tok         *tokenizer.Tokenizer
	tokMu       sync.Mutex // the tokenizer's caches are not safe for concurrent use
	padID       int64
	maxTokens   int
	pooling     Pooling
	dim         int
	fingerprint string
	session     *session
}

// Load reads the model directory and starts an ONNX Runtime session.
func Load(opts Options) (*Model, error) {
	m, modelPath, err := loadDir(opts)
	if err != nil {
		return nil, fmt.Errorf("onnx model %s: %w", opts.Dir, err)
	}
	s, dim, err := newSession(modelPath, opts.Library, opts.Threads)
	if err != nil {
		return nil, fmt.Errorf("onnx model %s: %w", opts.Dir, err)
	}
	m.session, m.dim = s, dim
	return m, nil
}

// loadDir reads everything but the network itself.
func loadDir(opts Options) (*Model, string, error) {
	modelPath, err := FindModelFile(opts.Dir)
	if err != nil {
		return nil, "", err
	}
	m := &Model{maxTokens: opts.MaxTokens, pooling: opts.Pooling}
	if m.maxTokens <= 0 {
		m.maxTokens = readMaxSeqLength(opts.Dir)
	}
	if m.pooling == "" {
		if m.pooling, err = readPooling(opts.Dir); err != nil {
			return nil, "", err
		}
	}
	if m.tok, m.padID, err = loadTokenizer(filepath.Join(opts.Dir, "tokenizer.json"), m.maxTokens); err != nil {
		return nil, "", err
	}
	if m.fingerprint, err = fingerprint(opts.Dir, modelPath, m.pooling, m.maxTokens); err != nil {
		return nil, "", err
	}
	return m, modelPath, nil
}

// Dim is the length of the vectors.
func (m *Model) Dim() int { return m.dim }

// Fingerprint is a hex SHA-256 of the network, tokenizer, pooling and
// truncation: everything that shapes the vectors.
func (m *Model) Fingerprint() string { return m.fingerprint }

// Close ends the ONNX Runtime session.
func (m *Model) Close() error { return m.session.close() }

// Embed returns one unit-length vector per text. Cancelling ctx
// interrupts ONNX Runtime mid-run.
func (m *Model) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	b, err := m.encode(texts)
	if err != nil {
		return nil, err
	}
	out, pooled, err := m.session.run(ctx, b)
	if err != nil {
		return nil, err
	}
	if pooled {
		return splitRows(out, b.rows, m.dim), nil
	}
	return pool(out, b, m.dim, m.pooling), nil
}

// batch is a tokenized batch, row-major [rows, cols], right-padded.
type batch struct {
	ids, mask, types []int64
	rows, cols       int
}

// encode tokenizes texts with special tokens and truncation and pads them
// to the longest.
func (m *Model) encode(texts []string) (*batch, error) {
	encs := make([]*tokenizer.Encoding, len(texts))
	m.tokMu.Lock()
	for i, t := range texts {
		enc, err := m.tok.EncodeSingle(t, true)
		if err != nil {
			m.tokMu.Unlock()
			return nil, fmt.Errorf("tokenize text %d: %w", i, err)
		}
		encs[i] = enc
	}
	m.tokMu.Unlock()
	ids, types := make([][]int, len(encs)), make([][]int, len(encs))
	for i, e := range encs {
		ids[i], types[i] = e.Ids, e.TypeIds
	}
	return padBatch(ids, types, m.padID), nil
}

// padBatch lays rows of token ids and their type ids (missing ones are 0)
// out row-major, right-padded with padID to the longest row.
func padBatch(ids, types [][]int, padID int64) *batch {
	b := &batch{rows: len(ids)}
	for _, row := range ids {
		b.cols = max(b.cols, len(row))
	}
	n := b.rows * b.cols
	b.ids, b.mask, b.types = make([]int64, n), make([]int64, n), make([]int64, n)
	for r, row := range ids {
		for c := range b.cols {
			i := r*b.cols + c
			if c >= len(row) {
				b.ids[i] = padID
				continue
			}
			b.ids[i], b.mask[i] = int64(row[c]), 1
			if r < len(types) && c < len(types[r]) {
				b.types[i] = int64(types[r][c])
			}
		}
	}
	return b
}

// pool reduces hidden [rows, cols, dim] to one unit vector per row.
func pool(hidden []float32, b *batch, dim int, p Pooling) [][]float32 {
	out := make([][]float32, b.rows)
	for r := range b.rows {
		v := make([]float64, dim)
		tokenVec := func(c int) []float32 {
			off := (r*b.cols + c) * dim
			return hidden[off : off+dim]
		}
		switch p {
		case PoolingCLS:
			addTo(v, tokenVec(0))
		case PoolingLastToken:
			last := 0
			for c := range b.cols {
				if b.mask[r*b.cols+c] == 1 {
					last = c
				}
			}
			addTo(v, tokenVec(last))
		default:
			for c := range b.cols {
				if b.mask[r*b.cols+c] == 1 {
					addTo(v, tokenVec(c))
				}
			}
		}
		out[r] = unit(v)
	}
	return out
}

func addTo(sum []float64, v []float32) {
	for i, x := range v {
		sum[i] += float64(x)
	}
}

// splitRows cuts already pooled [rows, dim] output into unit vectors.
func splitRows(flat []float32, rows, dim int) [][]float32 {
	out := make([][]float32, rows)
	for r := range rows {
		v := make([]float64, dim)
		addTo(v, flat[r*dim:(r+1)*dim])
		out[r] = unit(v)
	}
	return out
}

// unit returns v scaled to length 1 (the mean's 1/n cancels here).
func unit(v []float64) []float32 {
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	out := make([]float32, len(v))
	if norm == 0 {
		return out
	}
	inv := 1 / math.Sqrt(norm)
	for i, x := range v {
		out[i] = float32(x * inv)
	}
	return out
}

// FindModelFile returns model.onnx or onnx/model.onnx in dir.
func FindModelFile(dir string) (string, error) {
	for _, p := range []string{"model.onnx", filepath.Join("onnx", "model.onnx")} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			return filepath.Join(dir, p), nil
		}
	}
	return "", errors.New("no model.onnx or onnx/model.onnx")
}

// readPooling reads sentence-transformers' 1_Pooling/config.json; without
// one, mean pooling.
func readPooling(dir string) (Pooling, error) {
	b, err := os.ReadFile(filepath.Join(dir, "1_Pooling", "config.json"))
	if errors.Is(err, os.ErrNotExist) {
		return PoolingMean, nil
	}
	if err != nil {
		return "", err
	}
	var cfg struct {
		CLS       bool `json:"pooling_mode_cls_token"`
		Mean      bool `json:"pooling_mode_mean_tokens"`
		Max       bool `json:"pooling_mode_max_tokens"`
		SqrtLen   bool `json:"pooling_mode_mean_sqrt_len_tokens"`
		Weighted  bool `json:"pooling_mode_weightedmean_tokens"`
		LastToken bool `json:"pooling_mode_lasttoken"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return "", fmt.Errorf("1_Pooling/config.json: %w", err)
	}
	switch {
	case cfg.Max || cfg.SqrtLen || cfg.Weighted:
		return "", errors.New("1_Pooling/config.json: only mean, CLS and last-token pooling are supported")
	case cfg.CLS && !cfg.Mean && !cfg.LastToken:
		return PoolingCLS, nil
	case cfg.LastToken && !cfg.Mean && !cfg.CLS:
		return PoolingLastToken, nil
	case cfg.Mean && !cfg.CLS && !cfg.LastToken:
		return PoolingMean, nil
	}
	return "", errors.New("1_Pooling/config.json: not exactly one pooling mode")
}

// readMaxSeqLength reads sentence_bert_config.json's max_seq_length.
func readMaxSeqLength(dir string) int {
	var cfg struct {
		MaxSeqLength int `json:"max_seq_length"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "sentence_bert_config.json"))
	if err == nil && json.Unmarshal(b, &cfg) == nil && cfg.MaxSeqLength > 0 {
		return cfg.MaxSeqLength
	}
	return DefaultMaxTokens
}

// loadTokenizer reads tokenizer.json and truncates at maxTokens; padding
// is Cari's own, to the batch's longest.
func loadTokenizer(path string, maxTokens int) (*tokenizer.Tokenizer, int64, error) {
	f, err := tokenizerjson.Load(path)
	if err != nil {
		return nil, 0, err
	}
	f.WithTruncation(&tokenizer.TruncationParams{MaxLength: maxTokens, Strategy: tokenizer.LongestFirst})
	return f.Tokenizer, int64(f.PadID), nil
}

// fingerprint digests the files and settings that shape the vectors.
func fingerprint(dir, modelPath string, p Pooling, maxTokens int) (string, error) {
	h := sha256.New()
	files := []string{modelPath, modelPath + "_data", filepath.Join(dir, "tokenizer.json")}
	for _, f := range files {
		if err := HashFile(h, f); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(h, "pooling=%s\x00max_tokens=%d", p, maxTokens)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// HashFile writes path's base name and contents to w; a missing file
// writes nothing.
func HashFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(w, "%s\x00", filepath.Base(path))
	_, err = io.Copy(w, f)
	return err
}
