package exa

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cari-search/cari"
)

// textSections are the sections of a page Cari can tell apart, in page
// order (extract.Sections); Exa's "unspecified" is not one of them.
var textSections = []string{"metadata", "banner", "header", "navigation", "body", "sidebar", "footer"}

// verbositySections are the sections each verbosity returns: the main
// content only (compact, Exa's default), with the page's header
// (standard), or every section (full).
var verbositySections = map[string][]string{
	"":         {"body"},
	"compact":  {"body"},
	"standard": {"header", "body"},
	"full":     textSections,
}

// exaTextView are text's options that ask for another form of the page
// than the main text the index holds. Exa answers them from a live fetch
// only ("requires maxAgeHours: 0"), and so does Cari.
type exaTextView struct {
	IncludeHTMLTags bool     `json:"includeHtmlTags"`
	Verbosity       string   `json:"verbosity"`
	IncludeSections []string `json:"includeSections"`
	ExcludeSections []string `json:"excludeSections"`
}

// resolve validates the options and returns the view they ask for, or nil
// when they ask for the main text, which the index holds.
func (v exaTextView) resolve() (*TextView, error) {
	base, ok := verbositySections[v.Verbosity]
	if !ok {
		return nil, badRequest("contents.text.verbosity: must be compact, standard or full, got %q", v.Verbosity)
	}
	if err := checkSections("includeSections", v.IncludeSections); err != nil {
		return nil, err
	}
	if err := checkSections("excludeSections", v.ExcludeSections); err != nil {
		return nil, err
	}
	if len(v.IncludeSections) > 0 {
		base = v.IncludeSections
	}
	var sections []string
	for _, s := range textSections {
		if slices.Contains(base, s) && !slices.Contains(v.ExcludeSections, s) {
			sections = append(sections, s)
		}
	}
	if len(sections) == 0 {
		return nil, badRequest("contents.text: includeSections, excludeSections and verbosity leave no section of the page")
	}
	if !v.IncludeHTMLTags && slices.Equal(sections, []string{"body"}) {
		return nil, nil
	}
	return &TextView{HTML: v.IncludeHTMLTags, Sections: sections}, nil
}

func checkSections(field string, ss []string) error {
	for _, s := range ss {
		if s == "unspecified" {
			return badRequest("contents.text.%s: Cari cannot tell \"unspecified\" content apart from the page's other sections; name %s", field, strings.Join(textSections, ", "))
		}
		if !slices.Contains(textSections, s) {
			return badRequest("contents.text.%s: %q is not a section; the sections are %s", field, s, strings.Join(textSections, ", "))
		}
	}
	return nil
}

// textView validates c's text options and, when they ask for another form
// than the main text, makes p fetch every page: only a fetched page has
// its sections and markup.
func (c *exaContents) textView(p *livePolicy, live bool) (*TextView, error) {
	if c.Text == nil || !c.Text.On {
		return nil, nil
	}
	v, err := c.Text.view.resolve()
	if err != nil || v == nil {
		return nil, err
	}
	what := "contents.text"
	switch {
	case c.Text.view.IncludeHTMLTags:
		what += ".includeHtmlTags"
	case c.Text.view.Verbosity != "" && c.Text.view.Verbosity != "compact":
		what += ".verbosity"
	default:
		what += ".includeSections"
	}
	return v, needFetch(what, "keeps a page's main text only, so other forms of it come", p, live)
}

// applyTextView puts the view of each fetched page in its document's text,
// cut to maxChars characters. Pages not fetched (a failure the policy
// fell back from) keep the indexed main text, and a warning says so.
func applyTextView(entries []*liveEntry, v *TextView, maxChars int) []string {
	if v == nil {
		return nil
	}
	var warnings []string
	for _, e := range entries {
		if e.doc == nil {
			continue
		}
		if e.live == nil || e.live.Text == nil {
			warnings = append(warnings, fmt.Sprintf("contents.text: %s was not fetched; its indexed main text is served", e.asked))
			continue
		}
		txt, err := e.live.Text(*v)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("contents.text: %s: %v; its indexed main text is served", e.asked, err))
			continue
		}
		txt = cari.Truncate(txt, maxChars, "")
		e.doc.Text = &txt
	}
	return warnings
}
