package extract

import (
	"net/http"
	"slices"
	"testing"
)

// TestMarkupCategory checks that a fetched page's declared type reaches
// its category: the text and URL alone decide none, so only the markup
// (which a stored document no longer has) can.
func TestMarkupCategory(t *testing.T) {
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	body := func(head string) []byte {
		return []byte(`<html><head><title>Harbour lights</title>` + head +
			`</head><body><main><p>The harbour lights were lit again at dusk, and the ferry came in late.</p></main></body></html>`)
	}
	for _, tc := range []struct {
		name, head string
		types      []string
		want       string
	}{
		{"none", ``, nil, ""},
		{"JSON-LD in a graph", `<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebPage"},{"@type":["NewsArticle"],"author":{"@type":"Person"}}]}</script>`,
			[]string{"WebPage", "NewsArticle", "Person"}, "news"},
		{"og:type and citation tags", `<meta property="og:type" content="article"><meta name="citation_title" content="Harbour lights">`,
			[]string{"article", "citation"}, "research paper"},
		{"microdata", `<div itemscope itemtype="https://schema.org/Person"></div>`, []string{"Person"}, "people"},
		{"JSON-LD that is not JSON", `<script type="application/ld+json">{"@type": </script>`, nil, ""},
	} {
		p, err := Fetched(mustURL(t, "https://harbour.example/stories/lights"), html, body(tc.head))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		slices.Sort(p.Types)
		slices.Sort(tc.types)
		if !slices.Equal(p.Types, tc.types) || p.Document.Category != tc.want {
			t.Errorf("%s: types %q, category %q; want %q, %q", tc.name, p.Types, p.Document.Category, tc.types, tc.want)
		}
	}
}
