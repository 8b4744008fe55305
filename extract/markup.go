package extract

import (
	"encoding/json"
	"strings"

	"golang.org/x/net/html"
)

// maxJSONLDBytes bounds the JSON-LD read from one <script> for its @type
// names: a declaration is small, and a page cannot make the walk parse
// megabytes of data it carries for other reasons.
const maxJSONLDBytes = 64 << 10

// markupTypes returns what an element declares the page to be, for
// category.Input.Markup: og:type (<meta property="og:type">), schema.org
// microdata's itemtype (its last path segment: "NewsArticle"), and
// "citation" for Google Scholar's citation_* <meta> tags. JSON-LD is read
// by jsonLDTypes.
func markupTypes(n *html.Node) []string {
	var out []string
	if n.Data == "meta" {
		if strings.EqualFold(attr(n, "property"), "og:type") {
			if c := strings.TrimSpace(attr(n, "content")); c != "" {
				out = append(out, c)
			}
		}
		if strings.HasPrefix(strings.ToLower(attr(n, "name")), "citation_") {
			out = append(out, "citation")
		}
	}
	for _, t := range strings.Fields(attr(n, "itemtype")) {
		if i := strings.LastIndexByte(strings.TrimRight(t, "/"), '/'); i >= 0 {
			t = strings.TrimRight(t, "/")[i+1:]
		}
		out = append(out, t)
	}
	return out
}

// jsonLDTypes returns the @type names of a JSON-LD block, at any depth
// (an @graph, an author's Person), or none when it is not JSON.
func jsonLDTypes(src string) []string {
	if len(src) > maxJSONLDBytes {
		return nil
	}
	var v any
	if json.Unmarshal([]byte(src), &v) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			switch t := v["@type"].(type) {
			case string:
				out = append(out, t)
			case []any:
				for _, e := range t {
					if s, ok := e.(string); ok {
						out = append(out, s)
					}
				}
			}
			for k, e := range v {
				if k != "@type" {
					walk(e)
				}
			}
		}
	}
	walk(v)
	return out
}
