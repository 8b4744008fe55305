package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
)

// TestIndexLanguage indexes a corpus in batches of two, so that batches are
// written in the background while the next is prepared, with --language:
// every document is stored, those naming no language get --language's, and
// one whose line names its own keeps it.
func TestIndexLanguage(t *testing.T) {
	dir := t.TempDir()
	data, path := filepath.Join(dir, "data"), filepath.Join(dir, "corpus.jsonl")
	var lines []string
	for i := range 7 {
		lang := ""
		switch i {
		case 3:
			lang = `, "language": "id"`
		case 5:
			lang = `, "language": "english"` // not a language tag: the line is skipped
		case 6:
			lang = `, "language": "eng"` // stored as its canonical form, en
		}
		lines = append(lines, fmt.Sprintf(`{"_id": "d%d", "title": "Document %d", "text": "The quick brown fox jumps over the lazy dog, time %d."%s}`, i, i, i, lang))
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// One line of seven is malformed, more than --max-malformed's default.
	args := []string{"index", "--data", data, "--corpus", path, "--embedder", "none", "--batch", "2", "--max-malformed", "0.2"}
	if _, err := runModelsCmd(t, append(args, "--language", "en us")...); err == nil || !strings.Contains(err.Error(), "--language") {
		t.Fatalf("--language 'en us': error %v, want one naming --language", err)
	}
	out, err := runModelsCmd(t, append(args, "--language", "en-GB")...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "indexed 6 documents") || !strings.Contains(out, "skipped 1 ") {
		t.Errorf("output %q, want 6 documents indexed and the one with language \"english\" skipped", out)
	}
	s, err := local.Open(catalog.Dir(data, catalog.Default), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []string
	for i := range 7 {
		ids = append(ids, fmt.Sprintf("d%d", i))
	}
	docs, err := s.Documents(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		d, ok := docs[id]
		want := "en-GB"
		switch id {
		case "d3":
			want = "id"
		case "d6":
			want = "en"
		case "d5":
			if ok {
				t.Errorf("d5, whose language is \"english\", is stored")
			}
			continue
		}
		switch {
		case !ok:
			t.Errorf("%s is not stored", id)
		case d.Language != want:
			t.Errorf("%s has language %q, want %q", id, d.Language, want)
		}
	}
}

func TestCheckLanguageTag(t *testing.T) {
	for _, tag := range []string{"", "en", "id", "pt-BR", "zh-Hant-TW", "en_US", "sr-Latn-RS", "de-1996"} {
		if _, err := cari.LanguageTag(tag); err != nil {
			t.Errorf("%q: %v", tag, err)
		}
	}
	for _, tag := range []string{"e", "english", "xx", "en us", "1en", "en-", "-en", "english-toolongsubtag", "en--us", "fr/ca"} {
		if _, err := cari.LanguageTag(tag); err == nil {
			t.Errorf("%q: accepted", tag)
		}
	}
}
