package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cari-search/cari/store/catalog"
)

// legacyDataDir makes a data directory as the release before collections
// made it: the store's files (CURRENT, generations/) at its root and no
// catalog. It indexes the fixture with this binary and moves the default
// collection's files back up, which is that layout exactly (the store's
// own layout did not change). It returns the directory and its documents.
func legacyDataDir(t *testing.T) (string, int64) {
	t.Helper()
	built := filepath.Join(t.TempDir(), "data")
	mustCari(t, "index", "--data", built, "--corpus", fixture("corpus.jsonl"), "--embedder", "none", "--max-malformed", "0.1")
	docs, _ := stats(t, built)
	legacy := t.TempDir()
	entries, err := os.ReadDir(catalog.Dir(built, catalog.Default))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "LOCK" {
			continue
		}
		if err := os.Rename(filepath.Join(catalog.Dir(built, catalog.Default), e.Name()), filepath.Join(legacy, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return legacy, docs
}

// TestLegacyDataDirOpensAsDefault: a data directory made before
// collections opens as the collection default with all its documents and
// generations, with no manual step; and the move survives SIGKILL after
// each of its steps (the directory synced, the catalog not yet written):
// the next command finishes it, and the index verifies whole.
func TestLegacyDataDirOpensAsDefault(t *testing.T) {
	bin := cariBinary(t)
	legacy, docs := legacyDataDir(t)
	for step := 1; ; step++ {
		data := filepath.Join(t.TempDir(), "data")
		if err := os.CopyFS(data, os.DirFS(legacy)); err != nil {
			t.Fatal(err)
		}
		killed := killAfterMoves(t, bin, data, step)
		if out, errOut, err := runCari(t, "verify", "--data", data); err != nil {
			t.Fatalf("killed after move %d: verify: %v\n%s%s", step, err, out, errOut)
		}
		if got, _ := stats(t, data); got != docs {
			t.Errorf("killed after move %d: %d documents, want %d", step, got, docs)
		}
		for _, name := range []string{"CURRENT", "generations"} {
			if _, err := os.Stat(filepath.Join(data, name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("killed after move %d: %s is still at the data directory's root", step, name)
			}
		}
		out, _ := mustCari(t, "gc", "--data", data, "--list")
		if !strings.Contains(out, "serving") {
			t.Errorf("killed after move %d: gc --list names no serving generation:\n%s", step, out)
		}
		if !killed {
			break // the move finished before the kill: every step was covered
		}
	}
}

// killAfterMoves runs cari stats on data, whose opening moves a legacy
// index into default, pausing after each move, and kills it with SIGKILL
// once it has logged the step-th move. It reports whether it killed it
// (false: the move had fewer steps, and stats ran to the end).
func killAfterMoves(t *testing.T, bin, data string, step int) bool {
	t.Helper()
	cmd := exec.Command(bin, "stats", "--data", data, "--log-format", "json")
	cmd.Env = append(cariEnv(), catalog.StepDelayEnv+"=1s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	moves, killed := 0, false
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var rec struct{ Msg string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && strings.HasPrefix(rec.Msg, "moved an index made before collections") {
			if moves++; moves == step {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
	}
	err = cmd.Wait()
	if !killed && err != nil {
		t.Fatalf("stats on a legacy directory: %v", err)
	}
	return killed
}
