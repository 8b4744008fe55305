package local

import (
	"context"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/cari-search/cari"
)

func TestDocumentsRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	full := cari.Document{
		ID:        "full",
		URL:       "https://www.Example.com/a/b?c=d",
		Title:     "Café title",
		Text:      "Body text, with ünïcode — and\nnew lines.",
		Author:    "Ada Lovelace",
		Published: time.Date(2021, 3, 4, 5, 6, 7, 891234567, time.FixedZone("CET", 3600)),
		Crawled:   time.Date(2024, 12, 31, 23, 59, 59, 1, time.UTC),
		Language:  "en-GB",
	}
	minimal := cari.Document{ID: "minimal", Title: "only a title"}
	upsert(t, s, full, minimal)
	// upsert normalized its own copies; normalize ours the same way.
	for _, d := range []*cari.Document{&full, &minimal} {
		if err := d.Normalize(); err != nil {
			t.Fatal(err)
		}
	}

	got, err := s.Documents(ctx, []string{"full", "minimal", "absent", "full"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("Documents returned %d documents, want 2 (absent IDs left out)", len(got))
	}
	for _, want := range []cari.Document{full, minimal} {
		g := got[want.ID]
		if !g.Published.Equal(want.Published) || !g.Crawled.Equal(want.Crawled) {
			t.Errorf("%s: times = %v, %v; want %v, %v", want.ID, g.Published, g.Crawled, want.Published, want.Crawled)
		}
		g.Published, g.Crawled = want.Published, want.Crawled
		// The store gives back the passages it was handed (entries() makes
		// one covering the text).
		if wantChunks := []cari.Chunk{{End: len(want.Text)}}; !reflect.DeepEqual(g.Chunks, wantChunks) {
			t.Errorf("%s: chunks = %+v, want %+v", want.ID, g.Chunks, wantChunks)
		}
		g.Chunks = nil
		if !reflect.DeepEqual(g, want) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", want.ID, g, want)
		}
	}
	if got["full"].Domain != "example.com" {
		t.Errorf("domain = %q, want example.com", got["full"].Domain)
	}
}

func TestDocumentsRoundTripHistoricDate(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	published := time.Date(1605, 11, 5, 0, 0, 0, 0, time.UTC)
	upsert(t, s, cari.Document{ID: "old", Text: "gunpowder plot", Published: published})
	got, err := s.Documents(ctx, []string{"old"})
	if err != nil {
		t.Fatal(err)
	}
	if !got["old"].Published.Equal(published) {
		t.Errorf("Published = %v, want %v", got["old"].Published, published)
	}
}

func TestIDsForURLs(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	upsert(t, s,
		cari.Document{URL: "https://example.com/a", Text: "first"},
		cari.Document{ID: "corpus-7", URL: "https://example.com/B?q=1#frag", Text: "second"},
		doc("no-url", "third"))
	a := cari.DocumentID("https://example.com/a")
	got, err := s.IDsForURLs(ctx, []string{"https://example.com/a", "https://example.com/B?q=1#frag", "https://example.com/b?q=1#frag", "https://example.com/missing", ""})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"https://example.com/a": a, "https://example.com/B?q=1#frag": "corpus-7"}
	if !maps.Equal(got, want) {
		t.Errorf("IDsForURLs = %v, want %v (exact URL match only)", got, want)
	}

	// A replaced document is found by its new URL only.
	upsert(t, s, cari.Document{ID: "corpus-7", URL: "https://example.com/moved", Text: "second"})
	got, err = s.IDsForURLs(ctx, []string{"https://example.com/B?q=1#frag", "https://example.com/moved"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"https://example.com/moved": "corpus-7"}; !maps.Equal(got, want) {
		t.Errorf("after replace IDsForURLs = %v, want %v", got, want)
	}
}
