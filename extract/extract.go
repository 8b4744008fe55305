// Package extract turns a fetched or archived web page into a Document: the
// main text without the page furniture, title, author, publication date,
// language hints, out-links and robots directives, in the one canonical URL
// form Cari gives every page. The crawler extracts what it fetches with it,
// and reindexing extracts stored pages (WARC files, directories) the same
// way, so that both make the same document from the same page.
package extract

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	readability "codeberg.org/readeck/go-readability/v2"
	"codeberg.org/readeck/go-readability/v2/render"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/cari-search/cari"
)

// maxReadabilityElements bounds the DOM readability scores; a larger page
// takes the landmark or visible-text path instead, which is linear.
const maxReadabilityElements = 60000

// ErrNoContent is returned by Decoded for a page with neither a title nor
// any text.
var ErrNoContent = errors.New("no title and no text")

// Page is what Decoded finds in one fetched page.
type Page struct {
	// Document has URL, Title, Text, Author, Published and Language set
	// (and Category, by Fetched and Stored, from the markup too);
	// the caller (the crawler, Archived) adds ID, Crawled and ContentHash.
	Document cari.Document
	// SiteName is the site's own name for itself (og:site_name and the
	// like), possibly empty.
	SiteName string
	// Links are the page's out-links in canonical form, without those
	// marked rel="nofollow", in document order, each once.
	Links []string
	// ImageLinks are the page's images (<img src>) as absolute http(s)
	// URLs, in document order, each once, nofollow or not: Exa's
	// extras.imageLinks. Set for HTML pages only.
	ImageLinks []string
	// Canonical is the page's rel="canonical" URL in canonical form, or ""
	// when it has none.
	Canonical string
	// NoIndex and NoFollow are the page's robots directives, from <meta
	// name="robots"> (or name="cari") and the X-Robots-Tag header.
	NoIndex, NoFollow bool
	// Types are what the page's markup declares it to be (og:type,
	// schema.org @type and itemtype names, "citation" for citation_*
	// tags), in document order: category.Input.Markup.
	Types []string
}

// Decoded finds the main text and the metadata of a page whose body is
// already UTF-8 (Fetched and Stored decode it first). HTML goes through readability (the algorithm of
// Firefox's Reader View), restricted to the page's main landmark (<main> or
// role="main") when it has one, and the landmark's whole text is kept when
// readability keeps less than half of it; text/plain is taken as it is.
func Decoded(pageURL *url.URL, contentType string, body []byte, header http.Header) (Page, error) {
	var p Page
	p.Document.URL = pageURL.String()
	if header != nil {
		p.NoIndex, p.NoFollow = robotsDirectives(header.Values("X-Robots-Tag"), true)
		p.Document.Language = languageTag(firstToken(header.Get("Content-Language")))
	}
	if mediaType(contentType) == "text/plain" {
		p.Document.Text = cleanText(string(body))
		p.Document.Title = firstLine(p.Document.Text)
	} else if err := extractHTML(&p, pageURL, body); err != nil {
		return p, err
	}
	p.Document.Title = cari.TruncateBytes(cleanLine(p.Document.Title), cari.MaxTitleBytes)
	p.Document.Author = cari.TruncateBytes(cleanLine(p.Document.Author), cari.MaxTitleBytes)
	p.SiteName = cari.TruncateBytes(cleanLine(p.SiteName), cari.MaxTitleBytes)
	p.Document.Text = cari.TruncateBytes(p.Document.Text, cari.MaxTextBytes)
	if p.Document.Title == "" && strings.TrimSpace(p.Document.Text) == "" {
		return p, ErrNoContent
	}
	return p, nil
}

// pageScan is what one walk over the parsed page collects.
type pageScan struct {
	baseHref  string
	title     string
	canonical string
	robots    []string
	lang      string
	links     []rawLink
	images    []string
	types     []string
	landmark  *html.Node
	body      *html.Node
	elements  int
}

type rawLink struct {
	href     string
	nofollow bool
}

func extractHTML(p *Page, pageURL *url.URL, body []byte) error {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return err
	}
	var s pageScan
	s.walk(doc, false)
	base := pageURL
	if ref, err := url.Parse(strings.TrimSpace(s.baseHref)); err == nil && s.baseHref != "" {
		base = pageURL.ResolveReference(ref)
	}
	noIndex, noFollow := robotsDirectives(s.robots, false)
	p.NoIndex = p.NoIndex || noIndex
	p.NoFollow = p.NoFollow || noFollow
	if s.canonical != "" {
		if ref, err := url.Parse(strings.TrimSpace(s.canonical)); err == nil {
			if c, err := CanonicalURL(base.ResolveReference(ref)); err == nil {
				p.Canonical = c
			}
		}
	}
	if !p.NoFollow {
		p.Links = resolveLinks(base, s.links)
	}
	p.ImageLinks = resolveImages(base, s.images)
	p.Types = s.types
	if l := languageTag(s.lang); l != "" {
		p.Document.Language = l
	}
	p.Document.Title = s.title

	var landmarkText string
	if s.landmark != nil {
		landmarkText = cleanText(render.InnerText(s.landmark))
		isolate(s.body, s.landmark)
	}
	var text string
	if s.elements <= maxReadabilityElements {
		parser := readability.NewParser()
		art, err := parser.ParseAndMutate(doc, pageURL)
		if err == nil {
			if art.Node != nil {
				text = cleanText(render.InnerText(art.Node))
			}
			if t := art.Title(); t != "" {
				p.Document.Title = t
			}
			p.Document.Author = art.Byline()
			p.SiteName = art.SiteName()
			if t, err := art.PublishedTime(); err == nil && t.Year() > 1900 && t.Before(time.Now().Add(48*time.Hour)) {
				p.Document.Published = t.UTC()
			}
		}
	}
	switch {
	case landmarkText != "" && 2*wordCount(text) < wordCount(landmarkText):
		text = landmarkText
	case text == "" && s.body != nil:
		text = cleanText(visibleText(s.body))
	}
	p.Document.Text = text
	return nil
}

// walk collects the page's metadata, links and main landmark.
func (s *pageScan) walk(n *html.Node, inSVG bool) {
	if n.Type == html.ElementNode {
		s.elements++
		switch n.DataAtom {
		case atom.Html:
			s.lang = attr(n, "lang")
		case atom.Body:
			if s.body == nil {
				s.body = n
			}
		case atom.Base:
			if s.baseHref == "" {
				s.baseHref = attr(n, "href")
			}
		case atom.Title:
			if s.title == "" && !inSVG {
				s.title = textOf(n)
			}
		case atom.Link:
			if hasToken(attr(n, "rel"), "canonical") && s.canonical == "" {
				s.canonical = attr(n, "href")
			}
		case atom.Meta:
			name := strings.ToLower(attr(n, "name"))
			if name == "robots" || name == "cari" {
				s.robots = append(s.robots, attr(n, "content"))
			}
		case atom.A, atom.Area:
			if href, ok := attrOK(n, "href"); ok {
				s.links = append(s.links, rawLink{href: href, nofollow: hasToken(attr(n, "rel"), "nofollow")})
			}
		case atom.Img:
			if src, ok := attrOK(n, "src"); ok {
				s.images = append(s.images, src)
			}
		case atom.Script:
			if strings.EqualFold(strings.TrimSpace(attr(n, "type")), "application/ld+json") && n.FirstChild != nil {
				s.types = append(s.types, jsonLDTypes(n.FirstChild.Data)...)
			}
		case atom.Main:
			if s.landmark == nil {
				s.landmark = n
			}
		case atom.Svg:
			inSVG = true
		}
		s.types = append(s.types, markupTypes(n)...)
		if s.landmark == nil && strings.EqualFold(attr(n, "role"), "main") {
			s.landmark = n
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		s.walk(c, inSVG)
	}
}

// isolate makes the landmark the body's only child, so that readability
// looks for the article inside it and cannot pick a footer instead.
func isolate(body, landmark *html.Node) {
	if body == nil || landmark == body {
		return
	}
	landmark.Parent.RemoveChild(landmark)
	for c := body.FirstChild; c != nil; {
		next := c.NextSibling
		body.RemoveChild(c)
		c = next
	}
	body.AppendChild(landmark)
}

// resolveLinks makes links absolute and canonical, drops nofollow links
// and those that are not http(s), and keeps the first of each.
func resolveLinks(base *url.URL, links []rawLink) []string {
	seen := make(map[string]bool, len(links))
	var out []string
	for _, l := range links {
		href := strings.TrimSpace(l.href)
		if l.nofollow || href == "" || href[0] == '#' {
			continue
		}
		ref, err := url.Parse(href)
		if err != nil {
			continue
		}
		c, err := CanonicalURL(base.ResolveReference(ref))
		if err != nil || seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	return out
}

// resolveImages makes image sources absolute, drops those that are not
// http(s) (data: URLs, among others) and keeps the first of each.
func resolveImages(base *url.URL, srcs []string) []string {
	seen := make(map[string]bool, len(srcs))
	var out []string
	for _, src := range srcs {
		ref, err := url.Parse(strings.TrimSpace(src))
		if err != nil || src == "" {
			continue
		}
		u := base.ResolveReference(ref)
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		u.Fragment = ""
		if s := u.String(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// robotsDirectives reads noindex and nofollow ("none" is both) from
// robots meta contents or X-Robots-Tag values. A header value may be
// addressed to one crawler ("otherbot: noindex"); only those addressed to
// none or to Cari count.
func robotsDirectives(values []string, header bool) (noIndex, noFollow bool) {
	for _, v := range values {
		if header {
			if agent, rest, ok := strings.Cut(v, ":"); ok && !strings.ContainsAny(agent, ",") {
				if !strings.EqualFold(strings.TrimSpace(agent), RobotsToken) {
					continue
				}
				v = rest
			}
		}
		for _, tok := range strings.Split(v, ",") {
			switch strings.ToLower(strings.TrimSpace(tok)) {
			case "noindex":
				noIndex = true
			case "nofollow":
				noFollow = true
			case "none":
				noIndex, noFollow = true, true
			}
		}
	}
	return noIndex, noFollow
}

// visibleText is the text of the body without scripts, styles and the
// page furniture (navigation, header, footer, asides, forms).
func visibleText(n *html.Node) string {
	return blockText(n, func(a atom.Atom) bool {
		switch a {
		case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Nav, atom.Header,
			atom.Footer, atom.Aside, atom.Form, atom.Svg, atom.Iframe, atom.Select:
			return true
		}
		return false
	})
}

// blockText is the text under n without the elements skip names, with a
// line break after each block element.
func blockText(n *html.Node, skip func(atom.Atom) bool) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.ElementNode:
			if skip(n.DataAtom) {
				return
			}
			switch n.DataAtom {
			case atom.P, atom.Div, atom.Br, atom.Li, atom.Tr, atom.H1, atom.H2, atom.H3, atom.H4,
				atom.H5, atom.H6, atom.Pre, atom.Blockquote, atom.Section, atom.Article, atom.Table:
				defer b.WriteByte('\n')
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val, true
		}
	}
	return "", false
}

func hasToken(list, tok string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}
