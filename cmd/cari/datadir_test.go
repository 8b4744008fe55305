package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadOnlyCommandsNeedAnIndex: the commands that read an index fail on
// a missing --data directory with an error naming it, and leave no
// directory behind; serve starts on one, with a warning that says where.
func TestReadOnlyCommandsNeedAnIndex(t *testing.T) {
	cariBinary(t)
	missing := filepath.Join(t.TempDir(), "typo")
	for _, args := range [][]string{
		{"stats"},
		{"verify"},
		{"repair", "--embedder", "none"},
		{"gc"},
		{"reindex", "--rollback"},
		{"eval", "--embedder", "none", "--reranker", "none", "--queries", fixture("queries.jsonl"), "--qrels", fixture("qrels.tsv")},
	} {
		_, errOut, err := runCari(t, append(args, "--data", missing)...)
		if err == nil || !strings.Contains(errOut, missing+": no index") {
			t.Errorf("cari %s on a missing --data: %v, want an error naming it\n%s", strings.Join(args, " "), err, errOut)
		}
		if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("cari %s created the missing --data directory", strings.Join(args, " "))
		}
	}
	srv := startServe(t, missing)
	if logs := srv.stderr(t); !strings.Contains(logs, "level=WARN msg=\"no index in the data directory") || !strings.Contains(logs, "data="+missing) {
		t.Errorf("serve on a missing --data logged no warning naming it:\n%s", logs)
	}
}
