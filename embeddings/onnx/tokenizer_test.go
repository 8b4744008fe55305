package onnx

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// referenceEncoding is one line of testdata/tokenizer_reference.json,
// written by Hugging Face's tokenizers library (gen_tokenizer_reference.mjs).
type referenceEncoding struct {
	Text    string   `json:"text"`
	IDs     []int    `json:"ids"`
	TypeIDs []int    `json:"type_ids"`
	Tokens  []string `json:"tokens"`
}

func loadReference(t *testing.T) []referenceEncoding {
	t.Helper()
	b, err := os.ReadFile("testdata/tokenizer_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var refs []referenceEncoding
	if err := json.Unmarshal(b, &refs); err != nil {
		t.Fatal(err)
	}
	return refs
}

// TestTokenizerMatchesHuggingFace checks the BERT WordPiece tokenizer.json
// path (normaliser: lower-casing, accent stripping, CJK splitting,
// control characters; pre-tokenizer: whitespace and punctuation;
// WordPiece with ## continuations and [UNK]; the [CLS] ... [SEP]
// template) against the ids Hugging Face's tokenizers produced.
func TestTokenizerMatchesHuggingFace(t *testing.T) {
	tk, padID, err := loadTokenizer("testdata/tiny-bert/tokenizer.json", 512)
	if err != nil {
		t.Fatal(err)
	}
	if padID != 0 {
		t.Errorf("pad id %d, want 0 ([PAD])", padID)
	}
	for _, ref := range loadReference(t) {
		enc, err := tk.EncodeSingle(ref.Text, true)
		if err != nil {
			t.Fatalf("%q: %v", ref.Text, err)
		}
		if !slices.Equal(enc.Ids, ref.IDs) || !slices.Equal(enc.TypeIds, ref.TypeIDs) {
			t.Errorf("%q:\n got ids %v types %v (%q)\nwant ids %v types %v (%q)", ref.Text, enc.Ids, enc.TypeIds, enc.Tokens, ref.IDs, ref.TypeIDs, ref.Tokens)
		}
	}
}

// TestTokenizerTruncates checks that truncation keeps the special tokens
// inside the limit, as Hugging Face's truncation does.
func TestTokenizerTruncates(t *testing.T) {
	const limit = 8
	tk, _, err := loadTokenizer("testdata/tiny-bert/tokenizer.json", limit)
	if err != nil {
		t.Fatal(err)
	}
	refs := loadReference(t)
	long := refs[len(refs)-1]
	enc, err := tk.EncodeSingle(long.Text, true)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]int{}, long.IDs[:limit-1]...), long.IDs[len(long.IDs)-1])
	if !slices.Equal(enc.Ids, want) {
		t.Errorf("truncated ids %v, want %v", enc.Ids, want)
	}
}

func TestReadPooling(t *testing.T) {
	for _, tc := range []struct {
		config string
		want   Pooling
		ok     bool
	}{
		{"", PoolingMean, true},
		{`{"pooling_mode_mean_tokens": true}`, PoolingMean, true},
		{`{"pooling_mode_cls_token": true}`, PoolingCLS, true},
		{`{"pooling_mode_lasttoken": true}`, PoolingLastToken, true},
		{`{"pooling_mode_max_tokens": true}`, "", false},
		{`{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true}`, "", false},
		{`{`, "", false},
	} {
		dir := t.TempDir()
		if tc.config != "" {
			os.Mkdir(dir+"/1_Pooling", 0o755)
			os.WriteFile(dir+"/1_Pooling/config.json", []byte(tc.config), 0o644)
		}
		got, err := readPooling(dir)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q, ok=%v", tc.config, got, err, tc.want, tc.ok)
		}
	}
}
