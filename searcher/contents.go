package searcher

import (
	"context"
	"fmt"

	"github.com/cari-search/cari"
)

// MaxContentsItems bounds the ids and URLs of one contents request.
const MaxContentsItems = 100

// ContentsItem is the answer for one requested ID or URL.
type ContentsItem struct {
	// ID or URL is what was asked for (exactly one is set).
	ID, URL string
	// Found reports whether the document is stored.
	Found bool
	// Result holds the document when Found.
	Result Result
}

// Contents fetches stored documents by ID and by URL, in the order asked:
// first the ids, then the urls. A missing document is an item with Found
// false, not an error.
func (s *Searcher) Contents(ctx context.Context, ids, urls []string, c Contents) ([]ContentsItem, error) {
	n := len(ids) + len(urls)
	if n == 0 {
		return nil, &cari.FieldError{Field: "ids", Reason: "ids and urls are both empty; give at least one"}
	}
	if n > MaxContentsItems {
		return nil, &cari.FieldError{Field: "ids", Reason: fmt.Sprintf("ids and urls together must be at most %d, got %d", MaxContentsItems, n)}
	}
	if err := c.validate(s.opts.MaxQueryChars); err != nil {
		return nil, err
	}
	ctx, release, err := s.pin(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	byURL, err := s.store.IDsForURLs(ctx, urls)
	if err != nil {
		return nil, err
	}
	want := append([]string(nil), ids...)
	for _, u := range urls {
		if id, ok := byURL[u]; ok {
			want = append(want, id)
		}
	}
	docs, err := s.store.Documents(ctx, want)
	if err != nil {
		return nil, err
	}
	items := make([]ContentsItem, 0, n)
	add := func(it ContentsItem, id string) {
		if d, ok := docs[id]; ok && id != "" {
			it.Found = true
			it.Result = Result{Document: d, Text: textContents(d, c)}
			if c.Highlights != nil {
				it.Result.Highlights = s.hl.highlightsIn(d.Text, d.Language, c.Highlights.Query, *c.Highlights)
			}
		}
		items = append(items, it)
	}
	for _, id := range ids {
		add(ContentsItem{ID: id}, id)
	}
	for _, u := range urls {
		add(ContentsItem{URL: u}, byURL[u])
	}
	return items, nil
}
