package searcher

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cari-search/cari"
)

func TestContents(t *testing.T) {
	s := New(newLocal(t, whaleDocs...), Options{})
	items, err := s.Contents(context.Background(),
		[]string{"two", "missing", "three"},
		[]string{"https://b.example/1", "https://nowhere.example/"},
		Contents{Text: true, MaxCharacters: 5})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id, url, docID string
		found          bool
		text           string
	}
	want := []row{
		{id: "two", docID: "two", found: true, text: "Krill"},
		{id: "missing"},
		{id: "three", docID: "three", found: true, text: "Whale"},
		{url: "https://b.example/1", docID: "one", found: true, text: "A wha"},
		{url: "https://nowhere.example/"},
	}
	var got []row
	for _, it := range items {
		r := row{id: it.ID, url: it.URL, docID: it.Result.Document.ID, found: it.Found}
		if it.Result.Text != nil {
			r.text = *it.Result.Text
		}
		got = append(got, r)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Contents =\n%+v\nwant\n%+v", got, want)
	}
}

func TestContentsInvalid(t *testing.T) {
	s := New(newLocal(t, whaleDocs...), Options{})
	many := make([]string, MaxContentsItems)
	tests := []struct {
		name      string
		ids, urls []string
		c         Contents
		field     string
	}{
		{"nothing asked", nil, nil, Contents{}, "ids"},
		{"too many", many, []string{"https://a.example/"}, Contents{}, "ids"},
		{"negative max characters", []string{"one"}, nil, Contents{Text: true, MaxCharacters: -1}, "contents.text.max_characters"},
	}
	for _, tt := range tests {
		_, err := s.Contents(context.Background(), tt.ids, tt.urls, tt.c)
		var fe *cari.FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: err = %v, want a FieldError on %s", tt.name, err, tt.field)
		}
	}
	if _, err := s.Contents(context.Background(), many, nil, Contents{}); err != nil {
		t.Errorf("%d ids: %v", len(many), err)
	}
}

// Contents has no query, so highlights without one are the document's most
// informative passages: the sentences that carry its most frequent terms,
// not its first sentence nor an aside.
func TestContentsHighlightsWithoutQuery(t *testing.T) {
	doc := cari.Document{ID: "krill", URL: "https://k.example/krill", Text: "Welcome to our site. " +
		"Antarctic krill swarm in dense krill swarms under the sea ice. " +
		"Our office is closed on Mondays. " +
		"Whales and penguins eat krill, and krill swarms feed on algae under the ice."}
	s := New(newLocal(t, doc), Options{})
	items, err := s.Contents(context.Background(), []string{"krill"}, nil, Contents{Highlights: &Highlights{NumSentences: 1, PerURL: 2}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range items[0].Result.Highlights {
		got = append(got, h.Text)
	}
	want := []string{"Antarctic krill swarm in dense krill swarms under the sea ice.", "Whales and penguins eat krill, and krill swarms feed on algae under the ice."}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("highlights %q, want the two sentences about krill", got)
	}
}
