package extract

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	readability "codeberg.org/readeck/go-readability/v2"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The sections of a page, as Exa's text options name them, in the order
// SectionText joins them.
const (
	SectionMetadata   = "metadata"
	SectionBanner     = "banner"
	SectionHeader     = "header"
	SectionNavigation = "navigation"
	SectionBody       = "body"
	SectionSidebar    = "sidebar"
	SectionFooter     = "footer"
)

// Sections lists every section, in page order.
var Sections = []string{SectionMetadata, SectionBanner, SectionHeader, SectionNavigation, SectionBody, SectionSidebar, SectionFooter}

// sectionOf says which section an element opens by its tag or ARIA role:
// <nav> and role="navigation", <aside> and role="complementary", <footer>
// and role="contentinfo", <header>, and role="banner". "" for none.
func sectionOf(n *html.Node) string {
	switch strings.ToLower(attr(n, "role")) {
	case "navigation":
		return SectionNavigation
	case "complementary":
		return SectionSidebar
	case "contentinfo":
		return SectionFooter
	case "banner":
		return SectionBanner
	}
	switch n.DataAtom {
	case atom.Nav:
		return SectionNavigation
	case atom.Aside:
		return SectionSidebar
	case atom.Footer:
		return SectionFooter
	case atom.Header:
		return SectionHeader
	}
	return ""
}

// SectionText returns the named sections of an HTML page, joined by blank
// lines in page order: the body is the main content as Fetched extracts
// it (its text, or the markup of the <main> landmark or of what
// readability keeps), metadata the title and the <meta> descriptions, and
// the others the outermost elements that open them, each once. With
// asHTML the sections keep their markup, without scripts and styles.
// body is the page as a crawl fetched it, header its response header.
func SectionText(pageURL *url.URL, header http.Header, body []byte, sections []string, asHTML bool) (string, error) {
	for _, s := range sections {
		if !slices.Contains(Sections, s) {
			return "", fmt.Errorf("unknown section %q; the sections are %s", s, strings.Join(Sections, ", "))
		}
	}
	page, err := Fetched(pageURL, header, body)
	if err != nil {
		return "", err
	}
	utf8Body, _ := toUTF8(body, header.Get("Content-Type"), true)
	doc, err := html.Parse(bytes.NewReader(utf8Body))
	if err != nil {
		return "", err
	}
	parts := map[string][]string{}
	collectSections(doc, parts, asHTML)
	parts[SectionMetadata] = metadataLines(doc, asHTML)
	if asHTML {
		parts[SectionBody] = []string{mainHTML(doc, pageURL, utf8Body)}
	} else {
		parts[SectionBody] = []string{page.Document.Text}
	}
	var out []string
	for _, s := range Sections {
		if !slices.Contains(sections, s) {
			continue
		}
		for _, p := range parts[s] {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return strings.Join(out, "\n\n"), nil
}

// collectSections adds the outermost element of each section (other than
// body and metadata) under n to parts.
func collectSections(n *html.Node, parts map[string][]string, asHTML bool) {
	if n.Type == html.ElementNode {
		if s := sectionOf(n); s != "" {
			parts[s] = append(parts[s], nodeContent(n, asHTML))
			return
		}
		if n.DataAtom == atom.Main || strings.EqualFold(attr(n, "role"), "main") {
			return // the body's
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		collectSections(c, parts, asHTML)
	}
}

// nodeContent is n's text, or its markup without scripts and styles.
func nodeContent(n *html.Node, asHTML bool) string {
	if !asHTML {
		return cleanText(allText(n))
	}
	var b bytes.Buffer
	_ = html.Render(&b, withoutScripts(n))
	return b.String()
}

// allText is the text under n, scripts and styles left out, with line
// breaks after blocks.
func allText(n *html.Node) string {
	return blockText(n, func(a atom.Atom) bool {
		return a == atom.Script || a == atom.Style || a == atom.Noscript || a == atom.Template || a == atom.Svg
	})
}

// withoutScripts returns a copy of n without script, style, noscript and
// template elements.
func withoutScripts(n *html.Node) *html.Node {
	c := &html.Node{Type: n.Type, DataAtom: n.DataAtom, Data: n.Data, Namespace: n.Namespace, Attr: slices.Clone(n.Attr)}
	for k := n.FirstChild; k != nil; k = k.NextSibling {
		if k.Type == html.ElementNode && (k.DataAtom == atom.Script || k.DataAtom == atom.Style || k.DataAtom == atom.Noscript || k.DataAtom == atom.Template) {
			continue
		}
		c.AppendChild(withoutScripts(k))
	}
	return c
}

// metadataLines are the title and the description, keywords and author
// <meta> tags (og: and twitter: ones included), as "name: content" lines,
// or as the elements themselves with asHTML.
func metadataLines(doc *html.Node, asHTML bool) []string {
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Title:
				if asHTML {
					out = append(out, nodeContent(n, true))
				} else if t := cleanLine(textOf(n)); t != "" {
					out = append(out, "title: "+t)
				}
			case atom.Meta:
				name := strings.ToLower(attr(n, "name") + attr(n, "property"))
				content := cleanLine(attr(n, "content"))
				if content == "" || !metaNames(name) {
					break
				}
				if asHTML {
					out = append(out, nodeContent(n, true))
				} else {
					out = append(out, name+": "+content)
				}
			case atom.Body:
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return []string{strings.Join(out, "\n")}
}

func metaNames(name string) bool {
	switch strings.TrimPrefix(strings.TrimPrefix(name, "og:"), "twitter:") {
	case "description", "keywords", "author", "title", "site_name", "type", "published_time", "article:published_time":
		return true
	}
	return false
}

// mainHTML is the markup of the page's main content: its <main> landmark
// when it has one, else what readability keeps, else the whole <body>.
func mainHTML(doc *html.Node, pageURL *url.URL, body []byte) string {
	var s pageScan
	s.walk(doc, false)
	if s.landmark != nil {
		return nodeContent(s.landmark, true)
	}
	fresh, err := html.Parse(bytes.NewReader(body))
	if err == nil && s.elements <= maxReadabilityElements {
		parser := readability.NewParser()
		if art, err := parser.ParseAndMutate(fresh, pageURL); err == nil && art.Node != nil {
			return nodeContent(art.Node, true)
		}
	}
	if s.body != nil {
		return nodeContent(s.body, true)
	}
	return ""
}
