package exa_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cari-search/cari"
)

// TestExaCategoryIsExact: the category filter is the stored category's,
// applied inside retrieval, so a document of the category is found however
// far below the others it ranks (here under 150 better matches, past any
// pool of top results a query-time filter could classify), and Cari's own
// /v1/ search filters and reports the same category.
func TestExaCategoryIsExact(t *testing.T) {
	var docs []cari.Document
	for i := range 150 {
		docs = append(docs, cari.Document{ID: fmt.Sprintf("tide%03d", i), URL: fmt.Sprintf("https://tides.example.org/t%03d", i),
			Title: "Harbour tides", Text: "Harbour tides, harbour walls and harbour boats in the harbour."})
	}
	docs = append(docs, cari.Document{ID: "repo", URL: "https://github.com/example/harbour-tools", Title: "harbour-tools",
		Text: "Scripts for the harbour office, and many other unrelated utilities for scheduling, billing, reporting and printing."})
	ts := startServer(t, serverSetup{docs: docs})

	_, m, _ := exaDo(t, ts, "/search", `{"query":"harbour","type":"keyword","numResults":3,"category":"github"}`)
	rs := exaResults(t, m)
	if len(rs) != 1 || rs[0]["url"] != "https://github.com/example/harbour-tools" {
		t.Errorf("Exa search in category github: %v, want the repository alone", rs)
	}
	_, m, _ = exaDo(t, ts, "/search", `{"query":"harbour","type":"keyword","numResults":3}`)
	if rs := exaResults(t, m); len(rs) != 3 || rs[0]["url"] == "https://github.com/example/harbour-tools" {
		t.Errorf("Exa search without a category: %v, want three tide pages", rs)
	}

	r := ts.do(t, "POST", "/v1/search", `{"query":"harbour","type":"SEARCH_TYPE_KEYWORD","numResults":3,"filters":{"categories":["GitHub"]}}`)
	var out struct {
		Results []struct{ ID, Category string }
	}
	if err := json.Unmarshal(r.body, &out); err != nil || r.code != 200 {
		t.Fatalf("/v1/search: %d %s (%v)", r.code, r.body, err)
	}
	if len(out.Results) != 1 || out.Results[0].ID != "repo" || out.Results[0].Category != "github" {
		t.Errorf("/v1/search in category github: %+v, want repo reported as github", out.Results)
	}
	r = ts.do(t, "POST", "/v1/search", `{"query":"harbour","filters":{"categories":["blog"]}}`)
	if r.code != 400 || !strings.Contains(string(r.body), "filters.categories[0]: must be one of company") {
		t.Errorf("/v1/search with an unknown category: %d %s, want 400 naming filters.categories[0]", r.code, r.body)
	}
}
