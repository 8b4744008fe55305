package exa

import (
	"strings"

	"github.com/cari-search/cari/analysis/category"
)

// categoryAliases are the names Exa's SDKs and earlier specs use for
// Cari's categories: "linkedin profile" (the spec before "people") and
// exa-js's "publication".
var categoryAliases = map[string]string{
	"linkedin profile": category.People,
	"publication":      category.ResearchPaper,
}

// categories returns the category filter of f: Exa's one category, or
// none. The index stores each document's category when it is indexed, so
// the filter is exact over the whole index.
func (f *exaFilters) categories() ([]string, error) {
	if f.Category == "" {
		return nil, nil
	}
	c, ok := category.Parse(f.Category)
	if a, alias := categoryAliases[c]; alias {
		c, ok = a, true
	}
	if !ok {
		return nil, badRequest("category: must be one of %s, got %q", strings.Join(category.All, ", "), f.Category)
	}
	return []string{c}, nil
}
