package exa_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/server"
	"github.com/cari-search/cari/server/internal/servertest"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
)

const (
	adminKey    = "exa-admin-key-0123456789"
	docsOnlyKey = "exa-docs-only-key-0123456789"
)

// startCollectionsServer runs a server whose default collection holds
// servertest.Docs and whose collection docs (alias manual), with a URL
// template of its own, holds a corpus record without a URL; other is empty.
// Keys: adminKey may use all, docsOnlyKey only docs. more changes the
// server's options further.
func startCollectionsServer(t *testing.T, serverTemplate string, more ...func(*server.Options)) *testServer {
	t.Helper()
	cat, err := catalog.Open(t.TempDir(), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	servertest.Collection(t, cat, "docs", catalog.Settings{Embedder: "none", URLTemplate: "https://docs.example.org/d/{id}"},
		cari.Document{ID: "claim 17", Title: "Magma", Text: "Basaltic magma erupts from shield volcanoes in gentle lava flows."},
		cari.Document{ID: "seismo", Title: "Seismometers", Text: "Seismometers record the tremors of magma moving under shield volcanoes."})
	servertest.Collection(t, cat, "other", catalog.Settings{Embedder: "none"})
	if err := cat.UpdateAliases([]catalog.AliasAction{{Alias: "manual", Collection: "docs"}}); err != nil {
		t.Fatal(err)
	}
	open := func(_ context.Context, rec catalog.Collection) (*server.Collection, error) {
		st, err := local.Open(cat.Dir(rec.Name), local.Options{})
		if err != nil {
			return nil, err
		}
		return &server.Collection{Searcher: searcher.New(st, searcher.Options{}), Store: st, StoreName: "local", Close: st.Close}, nil
	}
	return startServer(t, serverSetup{
		guard: server.GuardOptions{Keys: []server.Key{
			{Secret: adminKey, Scope: server.ScopeAdmin},
			{Name: "docs-only", Secret: docsOnlyKey, Scope: server.ScopeSearch, Collections: []string{"docs"}},
		}},
		opts: func(o *server.Options) {
			o.Collections = &server.CollectionSet{Catalog: cat, Open: open}
			o.URLTemplate = serverTemplate
			for _, f := range more {
				f(o)
			}
		},
	})
}

// TestExaCollections: Exa's endpoints under /c/{collection}/ serve that
// collection (or alias), with its URL template; the plain paths serve
// default; an unknown collection is Exa's 404 naming it, and a key limited
// to other collections Exa's 403 naming it.
func TestExaCollections(t *testing.T) {
	ts := startCollectionsServer(t, "https://default.example.org/{id}")
	admin := []string{"x-api-key", adminKey}
	const docsURL = "https://docs.example.org/d/claim%2017"
	for _, prefix := range []string{"/c/docs", "/c/manual"} {
		code, m, _ := exaDo(t, ts, prefix+"/search", `{"query":"basaltic magma shield"}`, admin...)
		rs := exaResults(t, m)
		if code != 200 || len(rs) == 0 || rs[0]["id"] != "claim 17" || rs[0]["url"] != docsURL {
			t.Fatalf("POST %s/search: %d %v, want claim 17 first with the collection's url %s", prefix, code, m, docsURL)
		}
		code, m, _ = exaDo(t, ts, prefix+"/findSimilar", `{"url":"`+docsURL+`"}`, admin...)
		if rs := exaResults(t, m); code != 200 || len(rs) == 0 || rs[0]["id"] != "seismo" {
			t.Errorf("POST %s/findSimilar: %d %v, want seismo", prefix, code, m)
		}
		code, m, _ = exaDo(t, ts, prefix+"/contents", `{"ids":["seismo"],"urls":["`+docsURL+`"]}`, admin...)
		if rs := exaResults(t, m); code != 200 || len(rs) != 2 || rs[0]["url"] != "https://docs.example.org/d/seismo" || rs[1]["id"] != "claim 17" {
			t.Errorf("POST %s/contents: %d %v, want seismo by its ID and claim 17 by its built url", prefix, code, m)
		}
		code, m, _ = exaDo(t, ts, prefix+"/answer", `{"query":"basaltic magma shield"}`, admin...)
		if cites, _ := m["citations"].([]any); code != 200 || len(cites) == 0 || cites[0].(map[string]any)["url"] != docsURL {
			t.Errorf("POST %s/answer: %d %v, want claim 17 cited", prefix, code, m)
		}
		r := ts.do(t, "GET", prefix+"/documents/claim%2017", "", admin...)
		if r.code != 200 || !strings.Contains(string(r.body), "Basaltic") {
			t.Errorf("GET %s/documents/claim%%2017: %d %s", prefix, r.code, r.body)
		}
	}

	// The plain paths search default, with the server's template.
	for _, path := range []string{"/search", "/c/default/search"} {
		code, m, _ := exaDo(t, ts, path, `{"query":"magma volcano"}`, admin...)
		for _, r := range exaResults(t, m) {
			if code != 200 || r["id"] == "claim 17" || r["id"] == "seismo" {
				t.Errorf("POST %s: %d %v, want default's documents only", path, code, m)
			}
		}
	}
	code, m, _ := exaDo(t, ts, "/c/other/search", `{"query":"magma"}`, admin...)
	if rs := exaResults(t, m); code != 200 || len(rs) != 0 {
		t.Errorf("POST /c/other/search: %d %v, want no results from an empty collection", code, m)
	}

	exaError := func(method, path, body string, wantCode int, wantTag, wantIn string, headers ...string) {
		t.Helper()
		r := ts.do(t, method, path, body, headers...)
		var e map[string]any
		if err := json.Unmarshal(r.body, &e); err != nil || r.code != wantCode || e["tag"] != wantTag || !strings.Contains(e["error"].(string), wantIn) || e["requestId"] == "" {
			t.Errorf("%s %s: %d %s, want Exa's %d %s naming %s", method, path, r.code, r.body, wantCode, wantTag, wantIn)
		}
	}
	for _, path := range []string{"/search", "/findSimilar", "/contents", "/answer"} {
		body := map[string]string{"/search": `{"query":"magma"}`, "/findSimilar": `{"url":"` + docsURL + `"}`, "/contents": `{"ids":["seismo"]}`, "/answer": `{"query":"magma"}`}[path]
		exaError("POST", "/c/nope"+path, body, http.StatusNotFound, "NOT_FOUND", `"nope"`, admin...)
		exaError("POST", "/c/other"+path, body, http.StatusForbidden, "ACCESS_DENIED", `"other"`, "x-api-key", docsOnlyKey)
		exaError("POST", path, body, http.StatusForbidden, "ACCESS_DENIED", `"default"`, "x-api-key", docsOnlyKey)
		if code, m, _ := exaDo(t, ts, "/c/docs"+path, body, "x-api-key", docsOnlyKey); code != 200 {
			t.Errorf("POST /c/docs%s with the docs-only key: %d %v", path, code, m)
		}
	}
	exaError("GET", "/c/nope/documents/x", "", http.StatusNotFound, "NOT_FOUND", `"nope"`, admin...)
}

// TestExaLivecrawlPerCollection: a live fetch under /c/{collection}/
// writes the page to that collection's index (through an alias too), and
// to no other.
func TestExaLivecrawlPerCollection(t *testing.T) {
	site := newLiveSite(t)
	site.set("/tides", "Tide tables", "The spring tide floods the causeway twice a month.", 0)
	ts := startCollectionsServer(t, "", func(o *server.Options) {
		o.LiveCrawl = server.LiveCrawlOptions{Enabled: true, AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, HostDelay: -1}
	})
	admin := []string{"x-api-key", adminKey}
	page := site.URL + "/tides"
	code, m, _ := exaDo(t, ts, "/c/manual/contents", `{"urls":["`+page+`"],"livecrawl":"always","text":true}`, admin...)
	if rs := exaResults(t, m); code != 200 || len(rs) != 1 || !strings.Contains(rs[0]["text"].(string), "causeway") {
		t.Fatalf("POST /c/manual/contents with livecrawl always: %d %v, want the fetched page", code, m)
	}
	search := func(path string) []map[string]any {
		_, m, _ := exaDo(t, ts, path, `{"query":"spring tide causeway","type":"keyword"}`, admin...)
		return exaResults(t, m)
	}
	if rs := search("/c/docs/search"); len(rs) == 0 || rs[0]["url"] != page {
		t.Errorf("docs after the live fetch through its alias: %v, want the page", rs)
	}
	for _, path := range []string{"/search", "/c/other/search"} {
		for _, r := range search(path) {
			if r["url"] == page {
				t.Errorf("POST %s: %v, want the page in docs alone", path, r)
			}
		}
	}
}

// Each endpoint under /c/{collection}/ reaches the collection it names: a
// server without a catalog serves default there as on the plain paths, and
// answers an unknown collection with NOT_FOUND naming it.
func TestExaPathsPerCollection(t *testing.T) {
	ts := startServer(t, serverSetup{})
	bodies := map[string]string{
		"search":      `{"query":"volcano","type":"keyword","numResults":2}`,
		"findSimilar": `{"url":"https://geo.example.com/volcano","numResults":2}`,
		"contents":    `{"urls":["https://geo.example.com/volcano"]}`,
		"answer":      `{"query":"Why does a volcano erupt?"}`,
	}
	for endpoint, body := range bodies {
		code, m, _ := exaDo(t, ts, "/c/default/"+endpoint, body)
		if code != http.StatusOK {
			t.Errorf("/c/default/%s: %d %v, want 200", endpoint, code, m)
		}
		code, m, _ = exaDo(t, ts, "/c/nowhere/"+endpoint, body)
		if msg, _ := m["error"].(string); code != http.StatusNotFound || m["tag"] != "NOT_FOUND" || !strings.Contains(msg, `"nowhere"`) {
			t.Errorf("/c/nowhere/%s: %d %v, want 404 NOT_FOUND naming nowhere", endpoint, code, m)
		}
	}
	if r := ts.do(t, "POST", "/c/default/research", `{}`); r.code != http.StatusNotFound {
		t.Errorf("/c/default/research: %d, want 404", r.code)
	}
}
