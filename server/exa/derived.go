package exa

// Contents derived from the results' text once the search is done: each
// result's summary, and the context string (Exa's context: the results as
// one string to put in an LLM's prompt).

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cari-search/cari"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// contextResultChars is how much of each result's text the context string
// holds when the request asks for no text of its own: exa-js's default
// text length.
const contextResultChars = 10_000

// exaContextOption is true, false, or {"maxCharacters": N}.
type exaContextOption struct {
	On bool
	// MaxCharacters bounds the whole string; 0: no bound.
	MaxCharacters int
}

func (o *exaContextOption) UnmarshalJSON(b []byte) error {
	if on, ok := jsonBool(b); ok {
		*o = exaContextOption{On: on}
		return nil
	}
	var v struct {
		MaxCharacters int `json:"maxCharacters"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return badRequest("context: must be true, false or {\"maxCharacters\": N}: %v", err)
	}
	if v.MaxCharacters < 0 {
		return badRequest("context.maxCharacters: must be 0 or more, got %d", v.MaxCharacters)
	}
	*o = exaContextOption{On: true, MaxCharacters: v.MaxCharacters}
	return nil
}

// derivedContents are what a request asks to derive from the results.
type derivedContents struct {
	summary *summaryPlan
	context *exaContextOption // nil: no context string
}

// planDerived checks c's summary and the context option (in contents, or
// at the top level as Exa's CommonRequest has it), and makes contents fetch
// the text they read: the caller's own text option still decides what
// each result shows (want). It returns nil when nothing is derived.
func (a *exaAPI) planDerived(c *exaContents, topContext *exaContextOption, contents *cariv1.ContentsOptions, want *exaWant) (*derivedContents, *cariv1.ContentsOptions, error) {
	d := &derivedContents{}
	var err error
	if c != nil {
		if d.summary, err = a.planSummary(c.Summary); err != nil {
			return nil, nil, err
		}
		if c.Context != nil && c.Context.On {
			d.context = c.Context
		}
	}
	if topContext != nil && topContext.On {
		d.context = topContext
	}
	if d.summary == nil && d.context == nil {
		return nil, contents, nil
	}
	need := 0
	if d.context != nil && !want.text && !want.highlights {
		need = contextResultChars // the context's content is then the text
	}
	if d.summary != nil {
		need = max(need, summarySourceChars)
	}
	if need == 0 {
		return d, contents, nil
	}
	if contents == nil {
		contents = &cariv1.ContentsOptions{}
	}
	switch t := contents.GetText(); {
	case t == nil:
		contents.Text = &cariv1.TextOptions{MaxCharacters: int32(need)}
	case t.GetMaxCharacters() > 0 && int(t.GetMaxCharacters()) < need:
		// Fetch what the summary reads; the caller's text is cut to
		// what they asked for when it is written.
		want.textChars = int(t.GetMaxCharacters())
		t.MaxCharacters = int32(need)
	}
	return d, contents, nil
}

// apply writes the summaries into out (the results, in order) and returns
// the context string and warnings.
func (d *derivedContents) apply(ctx context.Context, a *exaAPI, query string, results []*cariv1.Result, out []exaResult, want exaWant) (contextString string, warnings []string) {
	if d == nil {
		return "", nil
	}
	if d.summary != nil {
		warnings = a.summarize(ctx, d.summary, query, results, out)
	}
	if d.context != nil {
		contextString = contextOf(results, out, want, d.context.MaxCharacters)
	}
	return contextString, warnings
}

// contextOf writes the results as one string for an LLM's prompt: for
// each result a header (title, URL, date, author, summary) and its
// content (the text the response carries, else its highlights, else the
// start of its text), results separated by a blank line; cut to
// maxChars characters when that is set.
func contextOf(results []*cariv1.Result, out []exaResult, want exaWant, maxChars int) string {
	var b strings.Builder
	for i, r := range results {
		if i > 0 {
			b.WriteString("\n\n")
		}
		e := out[i]
		fmt.Fprintf(&b, "Title: %s\nURL: %s\n", r.GetTitle(), e.URL)
		if e.PublishedDate != "" {
			fmt.Fprintf(&b, "Published: %s\n", e.PublishedDate)
		}
		if e.Author != "" {
			fmt.Fprintf(&b, "Author: %s\n", e.Author)
		}
		if e.Summary != nil {
			fmt.Fprintf(&b, "Summary: %s\n", *e.Summary)
		}
		switch {
		case want.text && e.Text != nil:
			b.WriteString(strings.TrimSpace(*e.Text))
		case want.highlights && e.Highlights != nil:
			b.WriteString(strings.Join(*e.Highlights, "\n"))
		default:
			b.WriteString(strings.TrimSpace(cari.Truncate(r.GetText(), contextResultChars, "")))
		}
	}
	return cari.Truncate(b.String(), maxChars, "")
}
