package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/store/local"
)

// TestCommandsListTheirOwnFlags: a command's --help lists the flags it
// uses, not every stack flag: the re-ranker's only where something is
// re-ranked, the embedder's only where something is embedded.
func TestCommandsListTheirOwnFlags(t *testing.T) {
	root := newRootCmd()
	find := func(path ...string) *cobra.Command {
		c, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		cmd        []string
		has, hasnt []string
	}{
		{[]string{"index"}, []string{"data", "embedder", "embed-similarity-floor", "embed-local-truncate", "store"}, []string{"reranker", "rerank-url", "ef-search"}},
		{[]string{"crawl"}, []string{"data", "embedder", "store"}, []string{"reranker", "rerank-top-n", "ef-search"}},
		{[]string{"reindex"}, []string{"data", "embedder"}, []string{"reranker", "rerank-prompts", "store"}},
		{[]string{"gc"}, []string{"data"}, []string{"embedder", "reranker", "ef-search"}},
		{[]string{"repair"}, []string{"data", "embedder"}, []string{"reranker", "ef-search"}},
		{[]string{"train-reranker"}, []string{"embedder", "ef-search"}, []string{"reranker", "rerank-url"}},
		{[]string{"eval"}, []string{"embedder", "ef-search", "reranker", "store"}, nil},
		{[]string{"serve"}, []string{"embed-similarity-floor", "ef-search", "reranker", "rerank-url", "store"}, nil},
		{[]string{"bench"}, []string{"embedder", "ef-search", "reranker"}, []string{"store"}},
	} {
		fs := find(tc.cmd...).Flags()
		for _, name := range tc.has {
			if fs.Lookup(name) == nil {
				t.Errorf("cari %s has no --%s", strings.Join(tc.cmd, " "), name)
			}
		}
		for _, name := range tc.hasnt {
			if fs.Lookup(name) != nil {
				t.Errorf("cari %s lists --%s, which it does not use", strings.Join(tc.cmd, " "), name)
			}
		}
	}
}

// TestConfigPrintShowsRealDefaults: cari config print shows the vector
// search's real default, not a 0 that stands for it.
func TestConfigPrintShowsRealDefaults(t *testing.T) {
	_, fs := parseServeFlags(t)
	cfg, err := configuration.Load(fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := cfg.Print(&out, fs, "cari serve"); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("ef-search: %d # default", local.DefaultEfSearch); !strings.Contains(out.String(), want) {
		t.Errorf("config print has no %q:\n%s", want, out.String())
	}
}

// TestEmbedFlagsBind: the embedder's floor and local truncation reach its
// configuration.
func TestEmbedFlagsBind(t *testing.T) {
	f, _ := parseServeFlags(t, "--embed-similarity-floor", "-1", "--embed-local-truncate", "--embed-dimensions", "256")
	if c := f.stack.embed; c.SimilarityFloor != -1 || !c.LocalTruncate || c.Dimensions != 256 {
		t.Errorf("embeddings config %+v: want floor -1, local truncation and 256 dimensions", c)
	}
}

// TestVersion: cari version and cari --version print the build and the
// default model.
func TestVersion(t *testing.T) {
	var outs []string
	for _, args := range [][]string{{"version"}, {"--version"}} {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out.String())
	}
	for _, want := range []string{"version ", "commit  ", "go      go1.", "model   static/glove-6b-100d (default)"} {
		if !strings.Contains(outs[0], want) {
			t.Errorf("cari version printed %q, want a line %q", outs[0], want)
		}
	}
	if outs[1] != outs[0] {
		t.Errorf("cari --version printed %q, cari version %q", outs[1], outs[0])
	}
}

// TestSearchNumResultsBound: cari search words the num_results bound as
// the server does, and as its help says.
func TestSearchNumResultsBound(t *testing.T) {
	root := newRootCmd()
	root.SetArgs([]string{"search", "-n", "101", "tides"})
	err := root.Execute()
	if err == nil || err.Error() != "-n/--num-results: must be between 1 and 100, got 101" {
		t.Errorf("search -n 101: %v", err)
	}
	c, _, _ := root.Find([]string{"search"})
	if u := c.Flags().Lookup("num-results").Usage; !strings.Contains(u, "1-100") {
		t.Errorf("--num-results help %q", u)
	}
}
