package tokenizerjson

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

const tinyBERT = "../onnx/testdata/tiny-bert/tokenizer.json"

func TestLoad(t *testing.T) {
	f, err := Load(tinyBERT)
	if err != nil {
		t.Fatal(err)
	}
	if f.UnknownID != 1 || f.PadID != 0 {
		t.Errorf("unknown %d pad %d, want 1 and 0", f.UnknownID, f.PadID)
	}
	if f.GetPadding() != nil || f.GetTruncation() != nil {
		t.Error("the file's padding and truncation should be off")
	}
	// BertNormalizer with strip_accents null and lowercase: accents go,
	// as Hugging Face strips them (ids checked in embeddings/onnx).
	enc, err := f.EncodeSingle("Résumé NAÏVE", false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(enc.Tokens, []string{"resume", "naive"}) {
		t.Errorf("tokens %q", enc.Tokens)
	}
}

func TestFixNormalizer(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"type":"BertNormalizer","lowercase":true,"strip_accents":null}`,
			`{"normalizers":[{"lowercase":true,"strip_accents":false,"type":"BertNormalizer"},{"type":"NFD"},{"type":"StripAccents"}],"type":"Sequence"}`},
		{`{"type":"BertNormalizer","lowercase":false,"strip_accents":null}`,
			`{"lowercase":false,"strip_accents":false,"type":"BertNormalizer"}`},
		{`{"type":"BertNormalizer","lowercase":true,"strip_accents":false}`,
			`{"lowercase":true,"strip_accents":false,"type":"BertNormalizer"}`},
		{`{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"BertNormalizer","lowercase":false,"strip_accents":true}]}`,
			`{"normalizers":[{"type":"NFC"},{"normalizers":[{"lowercase":false,"strip_accents":false,"type":"BertNormalizer"},{"type":"NFD"},{"type":"StripAccents"}],"type":"Sequence"}],"type":"Sequence"}`},
		{`{"type":"Lowercase"}`, `{"type":"Lowercase"}`},
	} {
		var in any
		if err := json.Unmarshal([]byte(tc.in), &in); err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(fixNormalizer(in))
		if string(got) != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"not json":     "{",
		"no model":     `{"model": null}`,
		"wrong types":  `{"model": {"type": "WordPiece", "vocab": 3}}`,
		"bad template": `{"model": {"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "a"}, "post_processor": {"type": 7}}`,
	} {
		path := filepath.Join(dir, "tokenizer.json")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}
