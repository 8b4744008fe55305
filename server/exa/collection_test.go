package exa_test

import (
	"net/http"
	"strings"
	"testing"
)

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
