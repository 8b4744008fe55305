package main

// The Exa SDK end-to-end test: the real cari serve, with API keys, driven
// through the unmodified exa-js SDK (test/exa, pinned in its lock file),
// whose TypeScript is compiled with tsc --strict against the SDK's types.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari/internal/sitetest"
)

const (
	exaSearchKey = "exa-search-key-0123456789"
	exaAdminKey  = "exa-admin-key-0123456789"
)

// exaProject is the npm project of the SDK test.
var exaProject = filepath.Join("..", "..", "test", "exa")

// exaDocs are indexed beside the fixture corpus: pages with URLs, which
// findSimilar and getContents need, on two domains.
var exaDocs = []string{
	`{"document":{"id":"geo-volcano","url":"https://geo.example.com/volcano","title":"How volcanoes erupt","text":"A volcano erupts when molten magma rises through the crust. Gas pressure drives the eruption. Lava, ash and volcanic bombs pour out of the vent.","publishedDate":"2021-03-01T00:00:00Z","author":"A. Geologist"}}`,
	`{"document":{"id":"news-merapi","url":"https://news.example.com/merapi","title":"Merapi erupts again","text":"Mount Merapi, the most active volcano in Indonesia, erupted on Sunday. Magma and lava flowed down the slopes as ash fell on the villages.","publishedDate":"2023-05-02T00:00:00Z"}}`,
	`{"document":{"id":"news-etna","url":"https://news.example.com/etna","title":"Etna lights up the night","text":"Etna, a volcano on Sicily, sent lava fountains into the sky; the eruption closed Catania airport for a day."}}`,
}

// glaciers is the small site that cari crawl indexes before the server
// starts: exa-js then finds its pages by their crawled URLs.
var glaciers = map[string]string{
	"/":        `<a href="/calving">Calving</a> <a href="/moraine">Moraines</a> Glaciers of the southern ice field.`,
	"/calving": `A tidewater glacier calves when blocks of ice break off its terminus and crash into the fjord.`,
	"/moraine": `A moraine is the ridge of rock and gravel that a glacier pushes ahead of it and leaves behind when it melts.`,
}

// exaSDK returns the command that runs the compiled exa-js test.
func exaSDK(t *testing.T) (node string, script string, nodePath string) {
	t.Helper()
	return npmScript(t, exaProject, "exa-js", "sdk.js")
}

// npmScript returns the command that runs script of the npm project in
// dir, installing it (npm ci, from its lock file, unless pkg is already in
// its node_modules) and compiling it with tsc --strict first. It skips the
// test when node or npm is absent.
func npmScript(t *testing.T, dir, pkg, script string) (node string, js string, nodePath string) {
	t.Helper()
	node, modules := npmInstall(t, dir, pkg)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, 2*time.Minute))
	defer cancel()
	tsc := exec.CommandContext(ctx, node, filepath.Join(modules, "typescript", "bin", "tsc"), "-p", dir, "--strict", "--outDir", out)
	if b, err := tsc.CombinedOutput(); err != nil {
		t.Fatalf("tsc --strict: the test in %s does not type-check against %s's types: %v\n%s", dir, pkg, err, b)
	}
	return node, filepath.Join(out, script), modules
}

// npmInstall installs the packages of dir's lock file unless pkg is there
// already, and returns node's path and dir's node_modules, absolute; it
// skips the test without node or npm.
func npmInstall(t *testing.T, dir, pkg string) (node, modules string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the SDK tests need Node.js and npm (apt-get install nodejs npm)")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: the SDK tests need Node.js and npm (apt-get install nodejs npm)")
	}
	modules = filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, pkg, "package.json")); err != nil {
		ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, 5*time.Minute))
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	abs, err := filepath.Abs(modules)
	if err != nil {
		t.Fatal(err)
	}
	return node, abs
}

func TestExaSDKEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the Exa SDK test installs npm packages and compiles TypeScript; skipped with -short")
	}
	node, script, nodePath := exaSDK(t)

	// A site on loopback for livecrawl, which the server may reach through
	// --livecrawl-allow-network only.
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/lighthouse" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><head><title>The lighthouse</title></head><body><main><p>The lighthouse keeper lights the lamp at dusk and climbs the tower again at dawn.</p><a href="/harbour">The harbour</a><img src="/lamp.png"></main></body></html>`)
	}))
	defer site.Close()

	data := t.TempDir()
	mustCari(t, "index", "--data", data, "--corpus", fixture("corpus.jsonl"), "--max-malformed", fixtureMaxMalformed)
	// A real crawl of a loopback site, into the same data directory.
	crawled := sitetest.Serve(t, glaciers)
	if sum := crawlCari(t, time.Minute, "--data", data, "--seed", crawled+"/", "--allow-private"); sum.Indexed != int64(len(glaciers)) || !sum.Done {
		t.Fatalf("cari crawl: %+v, want the site's %d pages indexed", sum, len(glaciers))
	}
	mustCari(t, "collections", "create", "--data", data, "--embedder", "none", "--url-template", "https://docs.example.org/d/{id}", "docs")
	srv := startServe(t, data, "CARI_AUTH_SEARCH_KEYS="+exaSearchKey, "CARI_AUTH_ADMIN_KEYS="+exaAdminKey,
		"--livecrawl", "--livecrawl-allow-network", "127.0.0.0/8")
	upsertExaDocs(t, srv.url)
	// The collection docs holds one record without a URL, which exa-js
	// finds through the base URL /c/docs only.
	code, _, body := call(t, http.MethodPost, srv.url+"/v1/documents:upsert",
		`{"collection":"docs","document":{"id":"tides","title":"Tide tables","text":"Tide tables give the times of high and low water at the harbour."}}`, "X-Api-Key", exaAdminKey)
	if code != http.StatusOK {
		t.Fatalf("upsert to docs: %d %s", code, body)
	}

	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, 2*time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(os.Environ(),
		"NODE_PATH="+nodePath,
		"CARI_URL="+srv.url,
		"CARI_KEY="+exaSearchKey,
		"CARI_SIMILAR_URL=https://geo.example.com/volcano",
		"CARI_LIVE_URL="+site.URL+"/lighthouse",
		"CARI_COLLECTION=docs",
		"CARI_CRAWLED_URL="+crawled+"/calving",
		"CARI_CRAWLED_QUERY=glacier calves ice terminus fjord",
		// A record of the fixture corpus, imported without URLs.
		"CARI_CORPUS_QUERY=photosynthesis chlorophyll sunlight glucose",
		"CARI_CORPUS_ID=doc01",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the exa-js SDK test failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("the exa-js SDK test printed %s, want ok", out)
	}
	t.Logf("exa-js: %s", strings.TrimSpace(string(out)))
}

// upsertExaDocs adds exaDocs through the HTTP upsert, with the admin key.
func upsertExaDocs(t *testing.T, url string) {
	t.Helper()
	code, _, body := call(t, http.MethodPost, url+"/v1/documents:upsert", strings.Join(exaDocs, "\n"), "X-Api-Key", exaAdminKey)
	if code != http.StatusOK || !regexp.MustCompile(fmt.Sprintf(`"indexed":"?%d\b`, len(exaDocs))).Match(body) {
		t.Fatalf("upsert: %d %s, want %d indexed", code, body, len(exaDocs))
	}
}
