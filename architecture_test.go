package cari_test

import (
	"bytes"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/cari-search/cari"

// forbidden maps each pipeline stage to the stages it must not depend on.
// Data flows crawler -> indexer -> store <- searcher <- server
// (docs/ARCHITECTURE.md): imports follow the arrows (the indexer writes to
// the store, the searcher reads it, the server serves the searcher and
// wires the crawler and indexer behind IndexService), never against them,
// and the indexer and searcher, which meet only at the store, do not
// import each other.
var forbidden = map[string][]string{
	"crawler":  {"indexer", "store", "searcher", "server"},
	"indexer":  {"crawler", "searcher", "server"},
	"store":    {"crawler", "indexer", "searcher", "server"},
	"searcher": {"crawler", "indexer", "server"},
}

// moduleImports returns, for every package of the module outside testdata,
// the module packages its non-test files import (paths relative to the
// module root, "." for the root package).
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "testdata", "node_modules", ".git":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == module:
				out[pkg] = append(out[pkg], ".")
			case strings.HasPrefix(p, module+"/"):
				out[pkg] = append(out[pkg], strings.TrimPrefix(p, module+"/"))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// deps returns every module package pkg imports, directly or not.
func deps(graph map[string][]string, pkg string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, d := range graph[p] {
			if !seen[d] {
				seen[d] = true
				walk(d)
			}
		}
	}
	walk(pkg)
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// under reports whether pkg is dir or a package below it.
func under(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }

// stageOf returns pkg's stage (its top-level folder), or "" for a
// package outside the pipeline's stages.
func stageOf(pkg string) string {
	stage, _, _ := strings.Cut(pkg, "/")
	if _, ok := forbidden[stage]; ok || stage == "server" {
		return stage
	}
	return ""
}

// isFixture reports whether pkg holds test fixtures (internal/*test), which
// may open a concrete store for the tests that use them.
func isFixture(pkg string) bool {
	return strings.Contains(pkg, "internal/") && strings.HasSuffix(pkg, "test")
}

// TestDataFlowsOneWay checks the layout's rules (docs/ARCHITECTURE.md,
// STYLE.md) on the import graph of non-test code, transitively: no stage
// reaches against the flow, no store reaches another store, and nothing
// but the binary (and test fixtures) reaches a concrete store.
func TestDataFlowsOneWay(t *testing.T) {
	graph := moduleImports(t)
	concrete := []string{"store/local", "store/qdrant"}
	for pkg := range graph {
		all := deps(graph, pkg)
		for _, d := range all {
			if s, ds := stageOf(pkg), stageOf(d); s != "" && slices.Contains(forbidden[s], ds) {
				t.Errorf("%s (stage %s) depends on %s (stage %s), against the flow of data", pkg, s, d, ds)
			}
			for _, c := range concrete {
				if under(d, c) && !under(pkg, c) && stageOf(pkg) != "" && !isFixture(pkg) {
					t.Errorf("%s depends on the concrete store %s: it should use the store contract", pkg, d)
				}
			}
		}
	}
	// The rules above must see the packages they are about.
	for _, p := range []string{"crawler", "indexer", "indexer/reindex", "store", "store/local", "store/qdrant", "searcher", "server", "server/exa"} {
		if _, ok := graph[p]; !ok {
			t.Errorf("package %s not found: the layout changed without this test", p)
		}
	}
}

// cliCeiling is the most lines cmd/cari's non-test Go files may hold
// together (docs/ARCHITECTURE.md): the binary parses flags and wires, so
// when it grows past this, logic has crept in that belongs to the package
// that owns it.
const cliCeiling = 2000

// TestCLIStaysThin counts cmd/cari's lines as `cat` of its non-test .go
// files piped to `wc -l` does, and fails over cliCeiling.
func TestCLIStaysThin(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("cmd", "cari", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in cmd/cari: %v", err)
	}
	lines := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines += bytes.Count(b, []byte("\n"))
	}
	if lines > cliCeiling {
		t.Errorf("cmd/cari holds %d lines of non-test Go, over its ceiling of %d: move command logic (defaults, decisions, what a command does after its flags are parsed) into the package that owns it", lines, cliCeiling)
	}
	t.Logf("cmd/cari: %d of %d lines", lines, cliCeiling)
}
