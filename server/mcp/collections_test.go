package mcp_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/server"
	"github.com/cari-search/cari/server/internal/servertest"
	"github.com/cari-search/cari/server/mcp"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
)

// Keys of the server with collections: one for docs only, one for
// another collection only, and an admin key.
const (
	docsKey  = "mcp-test-docs-only-key-0123456789"
	otherKey = "mcp-test-other-only-key-0123456789"
	adminKey = "mcp-test-admin-key-0123456789abcd"
)

// manual is the one document of the collection docs.
var manual = cari.Document{ID: "manual", URL: "https://docs.example.com/pump", Title: "Pump manual",
	Text: "Prime the volcano pump before the first start: open the vent and fill the housing with water."}

// startCollections runs a server whose data directory holds default
// (servertest.Docs), docs (manual, keyword only) with the alias manuals,
// and an empty collection other; keyed with searchKey, adminKey and the
// two keys limited to one collection.
func startCollections(t *testing.T, configure func(*server.Options)) *testServer {
	t.Helper()
	cat, err := catalog.Open(t.TempDir(), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	for _, name := range []string{"docs", "other"} {
		if _, err := cat.Create(name, catalog.Settings{Embedder: "none", Language: "en"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cat.UpdateAliases([]catalog.AliasAction{{Alias: "manuals", Collection: "docs"}}); err != nil {
		t.Fatal(err)
	}
	st, err := local.Open(cat.Dir("docs"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	servertest.Index(t, st, manual)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	open := func(_ context.Context, rec catalog.Collection) (*server.Collection, error) {
		st, err := local.Open(cat.Dir(rec.Name), local.Options{})
		if err != nil {
			return nil, err
		}
		return &server.Collection{Searcher: searcher.New(st, searcher.Options{}), Store: st, StoreName: "local", Close: st.Close,
			CrawlStateDir: t.TempDir()}, nil
	}
	keys := []server.Key{
		{Secret: searchKey, Scope: server.ScopeSearch},
		{Secret: adminKey, Scope: server.ScopeAdmin},
		{Name: "docs-only", Secret: docsKey, Scope: server.ScopeSearch, Collections: []string{"docs"}},
		{Name: "other-only", Secret: otherKey, Scope: server.ScopeSearch, Collections: []string{"other"}},
	}
	return startConfigured(t, server.GuardOptions{Keys: keys}, func(o *server.Options) {
		o.Collections = &server.CollectionSet{Catalog: cat, Open: open}
		if configure != nil {
			configure(o)
		}
	})
}

// The search tools search the collection their call names, or an alias
// of it; an unknown collection, or one outside the key's, is a tool error
// naming it.
func TestCollectionArgument(t *testing.T) {
	ts := startCollections(t, nil)
	pump := map[string]any{"query": "volcano pump", "type": "keyword"}
	with := func(args map[string]any, collection string) map[string]any {
		out := map[string]any{"collection": collection}
		for k, v := range args {
			out[k] = v
		}
		return out
	}
	for name, cs := range keyedSessions(t, ts, searchKey) {
		t.Run(name, func(t *testing.T) {
			if got := text(call(t, cs, "search", pump)); strings.Contains(got, manual.URL) || !strings.Contains(got, "geo.example.com") {
				t.Errorf("search without a collection reached docs or missed default:\n%s", got)
			}
			for _, c := range []string{"docs", "manuals"} {
				for _, tc := range []struct {
					tool string
					args map[string]any
				}{
					{"search", pump},
					{"contents", map[string]any{"urls": []string{manual.URL}}},
					{"find_similar", map[string]any{"url": manual.URL}},
					{"answer", map[string]any{"query": "How do I prime the pump?"}},
				} {
					res := call(t, cs, tc.tool, with(tc.args, c))
					if tc.tool == "find_similar" {
						// docs holds one document: nothing is like it but
						// itself, which is left out; no error says the url
						// was found there.
						if res.IsError {
							t.Errorf("%s in %s: %s", tc.tool, c, text(res))
						}
						continue
					}
					if res.IsError || !strings.Contains(text(res), manual.URL) {
						t.Errorf("%s in %s: isError %v, text %q; want %s", tc.tool, c, res.IsError, text(res), manual.URL)
					}
				}
			}
			res := call(t, cs, "search", with(pump, "nowhere"))
			if !res.IsError || !strings.Contains(text(res), `"nowhere"`) {
				t.Errorf("unknown collection: isError %v, text %q; want an error naming it", res.IsError, text(res))
			}
		})
	}
	for name, cs := range keyedSessions(t, ts, otherKey) {
		t.Run(name+"/scoped key", func(t *testing.T) {
			for tool, args := range map[string]map[string]any{"search": pump, "answer": {"query": "How do I prime the pump?"}} {
				res := call(t, cs, tool, with(args, "docs"))
				if !res.IsError || !strings.Contains(text(res), `"docs"`) || !strings.Contains(text(res), "may not use") {
					t.Errorf("%s in docs with a key for other: isError %v, text %q; want an error naming docs", tool, res.IsError, text(res))
				}
			}
		})
	}
}

// The collections are resources, listed as the caller's key sees them and
// read by name or alias, and the collections tool lists them too.
func TestCollectionResources(t *testing.T) {
	ts := startCollections(t, nil)
	for name, cs := range keyedSessions(t, ts, searchKey) {
		t.Run(name, func(t *testing.T) {
			list, err := cs.ListResources(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var uris []string
			for _, r := range list.Resources {
				uris = append(uris, r.URI)
			}
			if got, want := strings.Join(uris, " "), "cari://collections/default cari://collections/docs cari://collections/other"; got != want {
				t.Errorf("resources %s, want %s", got, want)
			}
			tmpl, err := cs.ListResourceTemplates(t.Context(), nil)
			if err != nil || len(tmpl.ResourceTemplates) != 1 || tmpl.ResourceTemplates[0].URITemplate != "cari://collections/{name}" {
				t.Errorf("resource templates %v, %v; want cari://collections/{name}", tmpl, err)
			}
			for _, uri := range []string{"cari://collections/docs", "cari://collections/manuals"} {
				got := readCollection(t, cs, uri)
				if got.Name != "docs" || got.Documents != 1 || got.Settings.Embedder != "none" || got.Settings.Language != "en" || strings.Join(got.Aliases, ",") != "manuals" {
					t.Errorf("read %s: %+v; want docs, 1 document, embedder none, language en, alias manuals", uri, got)
				}
			}
			if got := readCollection(t, cs, "cari://collections/default"); got.Documents != int64(len(servertest.Docs)) || got.Store != "local" {
				t.Errorf("read default: %+v; want %d documents in the local store", got, len(servertest.Docs))
			}
			if _, err := cs.ReadResource(t.Context(), &sdk.ReadResourceParams{URI: "cari://collections/nowhere"}); err == nil || !strings.Contains(err.Error(), `"nowhere"`) {
				t.Errorf("read an unknown collection: %v; want an error naming it", err)
			}
			res := call(t, cs, "collections", map[string]any{})
			if res.IsError || !strings.Contains(text(res), "docs (aliases: manuals): 1 documents, keyword search only") {
				t.Errorf("collections tool: isError %v, text:\n%s", res.IsError, text(res))
			}
		})
	}
	for name, cs := range keyedSessions(t, ts, docsKey) {
		t.Run(name+"/scoped key", func(t *testing.T) {
			list, err := cs.ListResources(t.Context(), nil)
			if err != nil || len(list.Resources) != 1 || list.Resources[0].Name != "docs" {
				t.Fatalf("resources for a key limited to docs: %v, %v; want docs alone", list, err)
			}
			if _, err := cs.ReadResource(t.Context(), &sdk.ReadResourceParams{URI: "cari://collections/other"}); err == nil || !strings.Contains(err.Error(), `"other"`) {
				t.Errorf("read other with a key for docs: %v; want an error naming other", err)
			}
		})
	}
}

// readCollection reads a collection's resource.
func readCollection(t *testing.T, cs *sdk.ClientSession, uri string) mcp.Collection {
	t.Helper()
	res, err := cs.ReadResource(t.Context(), &sdk.ReadResourceParams{URI: uri})
	if err != nil {
		t.Fatalf("read %s: %v", uri, err)
	}
	if len(res.Contents) != 1 || res.Contents[0].MIMEType != "application/json" {
		t.Fatalf("read %s: %v; want one JSON content", uri, res.Contents)
	}
	var c mcp.Collection
	if err := json.Unmarshal([]byte(res.Contents[0].Text), &c); err != nil {
		t.Fatalf("read %s: %v\n%s", uri, err, res.Contents[0].Text)
	}
	return c
}
