// Package tokenizerjson loads Hugging Face tokenizer.json files with
// github.com/sugarme/tokenizer, the pure-Go implementation, and corrects
// the places where that library reads a file differently from Hugging
// Face's own tokenizers, so that Cari feeds a model the token ids it was
// trained on. Both the ONNX and the Model2Vec providers use it.
package tokenizerjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/pretrained"
)

// File is a loaded tokenizer.json.
type File struct {
	*tokenizer.Tokenizer
	// UnknownID is the id of the model's unknown token, -1 if none.
	UnknownID int
	// PadID is the padding id the file configures, else that of [PAD],
	// <pad> or <|endoftext|>, else 0.
	PadID int
}

// Load reads the tokenizer.json at path, without the file's own padding
// and truncation (callers set their own).
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	f, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json %s: %w", path, err)
	}
	return f, nil
}

func parse(data []byte) (f *File, err error) {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if model, ok := raw["model"].(map[string]any); !ok || model == nil {
		return nil, fmt.Errorf("no \"model\" object")
	}
	if raw["normalizer"] != nil {
		raw["normalizer"] = fixNormalizer(raw["normalizer"])
	}
	fixed, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	defer func() {
		// The library type-asserts its JSON without checking; a malformed
		// or unsupported file must be an error, not a crash.
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("unsupported or malformed: %v", r)
		}
	}()
	tk, err := pretrained.FromReader(bytes.NewReader(fixed))
	if err != nil {
		return nil, err
	}
	f = &File{Tokenizer: tk, UnknownID: -1, PadID: padID(tk)}
	if unk, ok := raw["model"].(map[string]any)["unk_token"].(string); ok {
		if id, ok := tk.TokenToId(unk); ok {
			f.UnknownID = id
		}
	}
	tk.WithPadding(nil)
	tk.WithTruncation(nil)
	return f, nil
}

// fixNormalizer returns the normalizer n with BertNormalizer's accent
// stripping done as Hugging Face does it. There, strip_accents null means
// "as lowercase", so uncased BERT vocabularies (all-MiniLM, bge-*-en)
// strip accents, and stripping decomposes (NFD) before it drops the
// combining marks. The Go library reads null as false and drops marks
// without decomposing, which leaves "é" whole. So an accent-stripping
// BertNormalizer becomes the sequence [BertNormalizer without stripping,
// NFD, StripAccents], which normalises every text identically.
// Sequences are fixed recursively.
func fixNormalizer(n any) any {
	m, ok := n.(map[string]any)
	if !ok {
		return n
	}
	switch m["type"] {
	case "BertNormalizer":
		strip, isBool := m["strip_accents"].(bool)
		if !isBool {
			strip, _ = m["lowercase"].(bool)
		}
		m["strip_accents"] = false
		if strip {
			return map[string]any{"type": "Sequence", "normalizers": []any{
				m, map[string]any{"type": "NFD"}, map[string]any{"type": "StripAccents"},
			}}
		}
	case "Sequence":
		if list, ok := m["normalizers"].([]any); ok {
			for i, sub := range list {
				list[i] = fixNormalizer(sub)
			}
		}
	}
	return m
}

func padID(tk *tokenizer.Tokenizer) int {
	if p := tk.GetPadding(); p != nil {
		return p.PadId
	}
	for _, t := range []string{"[PAD]", "<pad>", "<|endoftext|>"} {
		if id, ok := tk.TokenToId(t); ok {
			return id
		}
	}
	return 0
}
