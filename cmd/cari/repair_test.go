package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari/store/catalog"
)

// TestVerifyAndRepair damages the vector log and then CURRENT of an index
// the real binary built, and checks that cari verify reports each, that
// cari repair fixes each, and that the index then verifies clean with every
// document.
func TestVerifyAndRepair(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary six times")
	}
	embed := crashEmbedArgs(t)
	if embed[0] != "--models" {
		t.Skip("needs the default embedding model (make models) to rebuild vectors")
	}
	data := t.TempDir()
	mustCari(t, append([]string{"index", "--data", data, "--corpus", fixture("corpus.jsonl"), "--max-malformed", fixtureMaxMalformed}, embed...)...)
	out, _ := mustCari(t, "verify", "--data", data)
	if !strings.Contains(out, "30 documents") || !strings.Contains(out, "vectors for 30 documents") || !strings.HasSuffix(strings.TrimSpace(out), "ok") {
		t.Fatalf("verify of a whole index printed:\n%s", out)
	}
	gens, err := filepath.Glob(filepath.Join(catalog.Dir(data, catalog.Default), "generations", "*", "vectors.log"))
	if err != nil || len(gens) != 1 {
		t.Fatalf("vector logs: %v %v", gens, err)
	}
	b, err := os.ReadFile(gens[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(gens[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := runCari(t, "verify", "--data", data)
	if err == nil || !strings.Contains(errOut, "vectors.log") || !strings.Contains(errOut, "cari repair") {
		t.Fatalf("verify of a damaged vector log: %v\n%s", err, errOut)
	}
	out, _ = mustCari(t, append([]string{"repair", "--data", data}, embed...)...)
	if !strings.Contains(out, "rebuilt the vector log") || !strings.HasSuffix(strings.TrimSpace(out), "ok") {
		t.Errorf("repair printed:\n%s", out)
	}

	if err := os.WriteFile(filepath.Join(catalog.Dir(data, catalog.Default), "CURRENT"), []byte("gen-that-is-not-there\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := runCari(t, "verify", "--data", data); err == nil || !strings.Contains(errOut, "cari repair") {
		t.Fatalf("verify with CURRENT naming a missing generation: %v\n%s", err, errOut)
	}
	out, _ = mustCari(t, append([]string{"repair", "--data", data}, embed...)...)
	if !strings.Contains(out, "pointed") || !strings.Contains(out, "30 documents") {
		t.Errorf("repair of CURRENT printed:\n%s", out)
	}
	out, _ = mustCari(t, "verify", "--data", data, "--json")
	if !strings.Contains(out, `"Documents": 30`) || !strings.Contains(out, `"VectorDocuments": 30`) || !strings.Contains(out, `"Problems": []`) {
		t.Errorf("verify after the repairs:\n%s", out)
	}
}
