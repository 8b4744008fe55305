package exa

import (
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/cari-search/cari/analysis/category"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// categoryAliases are the names Exa's SDKs and spec use for Cari's
// categories: the spec's "linkedin profile" and exa-js's "publication".
var categoryAliases = map[string]string{
	"linkedin profile": category.People,
	"publication":      category.ResearchPaper,
}

// Until the index stores a category per document, category filters the
// top categoryPool (at least categoryMinPool, at most 100) results of the
// search by classifying each at query time.
const (
	categoryPool    = 5
	categoryMinPool = 50
)

// categoryPlan validates the category filter and returns the category and
// how many results to ask the search for, n being how many were asked
// (0: the default); "" when there is no filter.
func (f *exaFilters) categoryPlan(n int32) (string, int32, error) {
	if f.Category == "" {
		return "", n, nil
	}
	c := strings.ToLower(strings.TrimSpace(f.Category))
	if a, ok := categoryAliases[c]; ok {
		c = a
	}
	if !slices.Contains(category.All, c) {
		return "", 0, badRequest("category: must be one of %s, got %q", strings.Join(category.All, ", "), f.Category)
	}
	if n <= 0 {
		n = 10
	}
	return c, min(max(n*categoryPool, categoryMinPool), 100), nil
}

// categoryText is how much of each result's text the classifier reads.
const categoryText = 3000

// categoryContents returns the contents a search filtered by cat asks
// for: contents, with the start of the text, which the classifier reads,
// when contents has no text.
func categoryContents(cat string, c *cariv1.ContentsOptions) *cariv1.ContentsOptions {
	if cat == "" || c.GetText() != nil {
		return c
	}
	out := &cariv1.ContentsOptions{}
	if c != nil {
		out = proto.Clone(c).(*cariv1.ContentsOptions)
	}
	out.Text = &cariv1.TextOptions{MaxCharacters: categoryText}
	return out
}

// keepCategory keeps the results of category c, at most n (10 when n is
// 0), in their order; with no category it changes nothing.
func keepCategory(resp *cariv1.SearchResponse, c string, n int32) {
	if c == "" {
		return
	}
	if n <= 0 {
		n = 10
	}
	kept := resp.Results[:0]
	for _, r := range resp.GetResults() {
		if int32(len(kept)) == n {
			break
		}
		in := category.Input{URL: r.GetUrl(), Title: r.GetTitle(), Text: r.GetText()}
		if category.Classify(in) == c {
			kept = append(kept, r)
		}
	}
	resp.Results = kept
}
