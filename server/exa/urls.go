package exa

import (
	"fmt"
	"net/url"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// DefaultURIPrefix begins the URI of a document that has no URL of its own
// when no URL template is configured: "cari:doc/" and the document's ID,
// path-escaped ("cari:doc/claim%2017"). It is an absolute URI, as Exa's
// spec wants a result's url to be, and Cari resolves it back to the ID in
// /findSimilar and /contents, so SDK code that passes a result's url on
// works for corpus records imported without one.
const DefaultURIPrefix = "cari:doc/"

// idPlaceholder is where a URL template puts the document's ID.
const idPlaceholder = "{id}"

// docURLs gives every document a URL: its own, else one built from the
// template, else the default cari:doc/ URI; and finds the ID again in a
// URL built either way.
type docURLs struct {
	// prefix and suffix surround the path-escaped ID in a templated URL;
	// both are empty without a template.
	prefix, suffix string
}

// newDocURLs checks a URL template: it must hold {id} once and make an
// absolute URL ("https://docs.example.org/{id}").
func newDocURLs(template string) (docURLs, error) {
	if template == "" {
		return docURLs{}, nil
	}
	if strings.Count(template, idPlaceholder) != 1 {
		return docURLs{}, fmt.Errorf("URL template %q: must contain %s exactly once", template, idPlaceholder)
	}
	prefix, suffix, _ := strings.Cut(template, idPlaceholder)
	if u, err := url.Parse(prefix + "id" + suffix); err != nil || !u.IsAbs() {
		return docURLs{}, fmt.Errorf("URL template %q: must make an absolute URL such as https://docs.example.org/{id}", template)
	}
	return docURLs{prefix: prefix, suffix: suffix}, nil
}

// of is the URL of the document with id whose own URL is own.
func (d docURLs) of(id, own string) string {
	switch {
	case own != "":
		return own
	case d.prefix != "":
		return d.prefix + url.PathEscape(id) + d.suffix
	}
	return DefaultURIPrefix + url.PathEscape(id)
}

// id is the document ID in a URL that of built from an ID, or false for
// any other URL (a page's own).
func (d docURLs) id(u string) (string, bool) {
	rest, ok := strings.CutPrefix(u, DefaultURIPrefix)
	if !ok && d.prefix != "" && strings.HasPrefix(u, d.prefix) && strings.HasSuffix(u, d.suffix) && len(u) > len(d.prefix)+len(d.suffix) {
		rest, ok = u[len(d.prefix):len(u)-len(d.suffix)], true
	}
	if !ok || rest == "" {
		return "", false
	}
	id, err := url.PathUnescape(rest)
	if err != nil {
		return "", false
	}
	return id, true
}

// fill gives every result that has no URL its built one.
func (d docURLs) fill(results []*cariv1.Result) {
	for _, r := range results {
		if r != nil && r.GetUrl() == "" {
			r.Url = d.of(r.GetId(), "")
		}
	}
}

// documentHandler answers GET /documents/{id} with one stored document as
// a /contents result, its text whole. A URL template that points here
// ("https://search.example.org/documents/{id}") makes every URL built for
// a document one that resolves when fetched.
func (a *exaAPI) documentHandler(c *exaCall, _ []byte) (any, error) {
	id := c.r.PathValue("id")
	items, _, err := a.lookUp(c, []string{id}, nil, &cariv1.ContentsOptions{Text: &cariv1.TextOptions{}})
	if err != nil {
		return nil, err
	}
	if items[0].status != cariv1.ContentsStatus_CONTENTS_STATUS_FOUND {
		return nil, status.Errorf(codes.NotFound, "document %q: no stored document has this ID", id)
	}
	return exaResultOf(items[0].doc, exaWant{text: true}, false), nil
}
