package exa_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari"
)

// TestExaFilterEmptyResults checks filterEmptyResults ("filter results
// with no contents"): a page with a title and no text is left out of
// /contents and /search when it is set, kept when it is not, and the
// field is no longer answered with a warning.
func TestExaFilterEmptyResults(t *testing.T) {
	ts := startServer(t, serverSetup{docs: []cari.Document{
		{ID: "gallery", URL: "https://geo.example.com/gallery", Title: "Volcano photo gallery"},
	}})
	ids := func(m map[string]any) []string {
		var out []string
		for _, r := range m["results"].([]any) {
			out = append(out, r.(map[string]any)["id"].(string))
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name, path, body string
		gallery          bool // want the empty page among the results
	}{
		{"contents", "/contents", `{"ids":["volcano","gallery"]}`, true},
		{"contents filtered", "/contents", `{"ids":["volcano","gallery"],"filterEmptyResults":true}`, false},
		{"search", "/search", `{"query":"volcano","type":"keyword","contents":{"text":true}}`, true},
		{"search filtered", "/search", `{"query":"volcano","type":"keyword","contents":{"text":true,"filterEmptyResults":true}}`, false},
		{"search filtered, no contents asked", "/search", `{"query":"volcano","type":"keyword","contents":{"filterEmptyResults":true}}`, true},
	} {
		code, m, _ := exaDo(t, ts, tc.path, tc.body)
		if code != 200 {
			t.Fatalf("%s: %d %v", tc.name, code, m)
		}
		got := ids(m)
		if slices.Contains(got, "gallery") != tc.gallery || !slices.Contains(got, "volcano") {
			t.Errorf("%s: results %q, want volcano, and gallery %v", tc.name, got, tc.gallery)
		}
		if w := fmt.Sprint(m["warnings"]); strings.Contains(w, "filterEmptyResults") {
			t.Errorf("%s: warnings %s name filterEmptyResults, which is honoured", tc.name, w)
		}
	}
}
