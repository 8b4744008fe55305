package static

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cari-search/cari/embeddings/tokenizerjson"
)

// Model2Vec (github.com/MinishLab/model2vec) distils a sentence
// transformer into one static vector per token of its tokenizer. A model
// directory holds model.safetensors (the "embeddings" tensor, vocabulary
// by dimension, and in newer releases optional per-token "weights" and a
// token-to-row "mapping"), tokenizer.json and config.json. Encoding is:
// tokenize without special tokens, drop the unknown token, average the
// rows, normalise.

// model2vecFiles are the files of a Model2Vec directory, fingerprinted in
// this order.
var model2vecFiles = []string{"model.safetensors", "tokenizer.json", "config.json"}

// maxModel2VecTokens truncates long texts, as Model2Vec's encode does by
// default (max_length=512).
const maxModel2VecTokens = 512

func loadModel2Vec(dir string) (*Model, error) {
	data, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		return nil, err
	}
	tensors, err := readSafetensors(data, "embeddings", "weights", "mapping")
	if err != nil {
		return nil, err
	}
	emb, ok := tensors["embeddings"]
	if !ok || len(emb.shape) != 2 || emb.floats == nil {
		return nil, errors.New(`model.safetensors has no 2-D float "embeddings" tensor`)
	}
	tok, err := tokenizerjson.Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Name string `json:"model_name"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil {
		if err := json.Unmarshal(b, &cfg); err != nil {
			return nil, fmt.Errorf("config.json: %w", err)
		}
	}
	table, err := model2vecTable(emb, tensors["weights"], tensors["mapping"], tok.GetVocabSize(true))
	if err != nil {
		return nil, err
	}
	sum, err := hashFiles(dir, model2vecFiles)
	if err != nil {
		return nil, err
	}
	name := cfg.Name
	if name == "" {
		name = filepath.Base(dir)
	}
	dim := emb.shape[1]
	return &Model{
		header:      Header{Name: name, Source: "model2vec", Dim: dim, Words: len(table) / dim, Quantization: Float32, Tokenizer: "tokenizer.json"},
		fingerprint: sum,
		dim:         dim,
		tok:         tok.Tokenizer,
		unk:         int32(tok.UnknownID),
		table:       table,
	}, nil
}

// model2vecTable builds one weighted row per token id from the embedding
// matrix, the optional per-token weights and the optional mapping of
// token ids to embedding rows.
func model2vecTable(emb, weights, mapping tensor, vocabSize int) ([]float32, error) {
	rows, dim := emb.shape[0], emb.shape[1]
	tokens := rows
	if mapping.ints != nil {
		tokens = len(mapping.ints)
	}
	if weights.floats != nil && len(weights.floats) != tokens {
		return nil, fmt.Errorf("%d weights for %d tokens", len(weights.floats), tokens)
	}
	if tokens < vocabSize {
		return nil, fmt.Errorf("%d embedding rows for a tokenizer of %d tokens", tokens, vocabSize)
	}
	table := make([]float32, tokens*dim)
	for id := range tokens {
		row := id
		if mapping.ints != nil {
			row = int(mapping.ints[id])
			if row < 0 || row >= rows {
				return nil, fmt.Errorf("mapping of token %d to row %d of %d", id, row, rows)
			}
		}
		w := float32(1)
		if weights.floats != nil {
			w = weights.floats[id]
		}
		for j, v := range emb.floats[row*dim : (row+1)*dim] {
			table[id*dim+j] = w * v
		}
	}
	return table, nil
}

// hfTokenIDs tokenizes text with the model's tokenizer.json, without
// special tokens and without the unknown token, truncated as Model2Vec
// does.
func (m *Model) hfTokenIDs(text string, ids []int32) []int32 {
	m.tokMu.Lock()
	enc, err := m.tok.EncodeSingle(text, false)
	m.tokMu.Unlock()
	if err != nil {
		return ids
	}
	for _, id := range enc.Ids {
		if int32(id) == m.unk || id < 0 || id >= len(m.table)/m.dim {
			continue
		}
		ids = append(ids, int32(id))
		if len(ids) == maxModel2VecTokens {
			break
		}
	}
	return ids
}

// hashFiles returns the hex SHA-256 over the named files of dir, each
// preceded by its name; a missing file hashes as absent.
func hashFiles(dir string, names []string) (string, error) {
	h := sha256.New()
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
		h.Write(b)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}
