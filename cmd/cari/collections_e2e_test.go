package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestCollectionsCommands is the CLI contract of issue 22: two collections
// in one data directory through cari index --collection, listed, aliased,
// searched in-process by alias (cari search --data --collection), evaluated
// each alone (cari eval --collection) and deleted one without touching the
// other.
func TestCollectionsCommands(t *testing.T) {
	cariBinary(t)
	data := t.TempDir()
	corpus := fixture("corpus.jsonl")
	mustCari(t, "index", "--data", data, "--collection", "kb", "--corpus", corpus, "--embedder", "none", "--max-malformed", "0.1")
	mustCari(t, "index", "--data", data, "--collection", "other", "--corpus", corpus, "--embedder", "none", "--max-malformed", "0.1", "--batch", "7")
	mustCari(t, "collections", "alias", "--data", data, "live", "kb")
	out, _ := mustCari(t, "collections", "list", "--data", data, "--json")
	var l struct {
		Collections []struct {
			Name     string
			Settings struct{ Embedder string }
		}
		Aliases []struct{ Name, Collection string }
	}
	if err := json.Unmarshal([]byte(out), &l); err != nil || len(l.Collections) != 3 || l.Collections[1].Settings.Embedder != "none" || len(l.Aliases) != 1 {
		t.Fatalf("collections list --json: %s (%v)", out, err)
	}
	out, _ = mustCari(t, "search", "--data", data, "--collection", "live", "--json", "volcano", "eruption")
	if !strings.Contains(out, `"doc02"`) || !regexp.MustCompile(`"collection":\s*"kb"`).MatchString(out) {
		t.Errorf("search --data --collection live found no doc02 of the collection kb:\n%s", out)
	}
	eval := func(collection string) string {
		out, _ := mustCari(t, "eval", "--data", data, "--collection", collection, "--queries", fixture("queries.jsonl"), "--qrels", fixture("qrels.tsv"), "--mode", "keyword", "--reranker", "none")
		return out
	}
	kb := eval("kb")
	if other := eval("other"); other != kb {
		t.Errorf("the same corpus in two collections evaluates differently:\n%s\n%s", kb, other)
	}
	if _, errOut, err := runCari(t, "stats", "--data", data, "--collection", "nope"); err == nil || !strings.Contains(errOut, `"nope"`) {
		t.Errorf("stats of an unknown collection: %v %s, want an error naming it", err, errOut)
	}
	searchBoth(t, data)
	mustCari(t, "collections", "delete", "--data", data, "other")
	if got := eval("kb"); got != kb {
		t.Errorf("kb after deleting other:\n%s\nwant\n%s", got, kb)
	}
}

// searchBoth runs cari search --collection live,other against a cari serve
// of data: the results of both collections, fused by rank, each named by
// its collection (live's as kb's), kb's first. Over the data directory
// itself, several collections are refused, naming them. The server is
// stopped before it returns.
func searchBoth(t *testing.T, data string) {
	t.Helper()
	if _, errOut, err := runCari(t, "search", "--data", data, "--collection", "live,other", "volcano"); err == nil || !strings.Contains(errOut, "cari serve") {
		t.Errorf("search --data over two collections: %v %s, want an error that asks for a running server", err, errOut)
	}
	srv := startServe(t, data)
	out, _ := mustCari(t, "search", "--addr", srv.addr, "--collection", "live,other", "-n", "4", "volcano", "eruption")
	kb, other := strings.Index(out, "kb/doc02"), strings.Index(out, "other/doc02")
	if kb < 0 || other < kb {
		t.Errorf("search --collection live,other:\n%s\nwant kb/doc02, then other/doc02", out)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-srv.exited
}
