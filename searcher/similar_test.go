package searcher

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cari-search/cari"
)

var similarDocs = []cari.Document{
	{ID: "src", URL: "https://a.example/whales", Title: "Blue whales", Text: "Blue whales eat krill in cold oceans and sing long songs."},
	{ID: "near", URL: "https://b.example/whale-song", Title: "Whale songs", Text: "Blue whales sing songs that carry across cold oceans."},
	{ID: "same-site", URL: "https://a.example/krill", Title: "Krill", Text: "Krill swarm in cold oceans where blue whales feed."},
	{ID: "far", URL: "https://c.example/cars", Title: "Cars", Text: "Electric cars use batteries instead of petrol engines."},
}

func TestFindSimilar(t *testing.T) {
	for name, s := range map[string]*Searcher{
		"keyword only": New(newLocal(t, similarDocs...), Options{}),
		"hybrid":       New(newHybridStore(t, similarDocs...), Options{Embedder: trigramEmbedder{}}),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			resp, err := s.FindSimilar(ctx, SimilarQuery{ID: "src", NumResults: 3})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range resp.Results {
				ids = append(ids, r.Document.ID)
			}
			if slices.Contains(ids, "src") {
				t.Errorf("results %v include the source", ids)
			}
			if len(ids) == 0 || ids[0] == "far" {
				t.Errorf("results %v, want a whale document first", ids)
			}
			byURL, err := s.FindSimilar(ctx, SimilarQuery{URL: "https://a.example/whales", NumResults: 3, ExcludeSourceDomain: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range byURL.Results {
				if r.Document.Domain == "a.example" {
					t.Errorf("%s from the source's domain despite ExcludeSourceDomain", r.Document.ID)
				}
			}
		})
	}
	s := New(newLocal(t, similarDocs...), Options{})
	if _, err := s.FindSimilar(context.Background(), SimilarQuery{ID: "missing"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
	var fe *cari.FieldError
	if _, err := s.FindSimilar(context.Background(), SimilarQuery{}); !errors.As(err, &fe) {
		t.Errorf("no id or url: %v, want a FieldError", err)
	}
}
