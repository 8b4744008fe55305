package searcher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local"
)

// newLocal opens a local store in a temporary directory holding docs.
func newLocal(t *testing.T, docs ...cari.Document) *local.Store {
	t.Helper()
	s, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for i := range docs {
		if err := docs[i].Normalize(); err != nil {
			t.Fatalf("normalize %q: %v", docs[i].ID, err)
		}
	}
	entries := make([]store.Entry, len(docs))
	for i, d := range docs {
		entries[i] = store.Entry{Doc: d, Chunks: []cari.Chunk{{End: len(d.Text)}}}
	}
	if err := s.Upsert(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	return s
}

var whaleDocs = []cari.Document{
	{ID: "three", URL: "https://a.example/3", Title: "Whales", Text: "Whale whale whale: 鯨の歌 far.",
		Language: "en", Published: time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC)},
	{ID: "one", URL: "https://b.example/1", Title: "Ocean", Text: "A whale, krill, plankton, currents and tides."},
	{ID: "two", URL: "https://www.c.example/2", Title: "Whale", Text: "Krill feed the whale near a reef."},
	{ID: "none", Title: "Unrelated", Text: "Nothing about the sea."},
}

func TestSearchKeywordEndToEnd(t *testing.T) {
	ctx := context.Background()
	store := newLocal(t, whaleDocs...)
	s := New(store, Options{})

	resp, err := s.Search(ctx, Query{Text: "whale"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Type != TypeKeyword {
		t.Errorf("auto ran %v, want keyword", resp.Type)
	}
	var ids []string
	for i, r := range resp.Results {
		ids = append(ids, r.Document.ID)
		if i > 0 && r.Score > resp.Results[i-1].Score {
			t.Errorf("results not in score order: %d scores %v after %v", i, r.Score, resp.Results[i-1].Score)
		}
		if r.Text != nil {
			t.Errorf("%s carries text %q though contents text was not asked for", r.Document.ID, *r.Text)
		}
	}
	if got := strings.Join(ids, " "); got != "three two one" {
		t.Errorf("results = %s, want three two one", got)
	}
	if d := resp.Results[0].Document; d.URL != "https://a.example/3" || d.Domain != "a.example" || d.Language != "en" ||
		!d.Published.Equal(whaleDocs[0].Published) || d.Text != whaleDocs[0].Text {
		t.Errorf("first result's document = %+v, want the stored fields of %q", d, "three")
	}
	var stages []string
	for _, st := range resp.Timings {
		stages = append(stages, st.Stage)
		if st.Duration < 0 {
			t.Errorf("stage %s took %v", st.Stage, st.Duration)
		}
	}
	if got := strings.Join(stages, ","); got != "keyword,contents" {
		t.Errorf("timings for %s, want keyword,contents", got)
	}

	// The same keyword search, asked for by name, gives the same results.
	again, err := s.Search(ctx, Query{Text: "whale", Type: TypeKeyword})
	if err != nil || len(again.Results) != len(resp.Results) || again.Results[0].Score != resp.Results[0].Score {
		t.Errorf("keyword search = %+v, %v; want the auto results", again, err)
	}
}

func TestSearchContentsText(t *testing.T) {
	store := newLocal(t, whaleDocs...)
	s := New(store, Options{})
	tests := []struct {
		name     string
		contents Contents
		want     string // text of "three"
	}{
		{"whole text", Contents{Text: true}, whaleDocs[0].Text},
		{"cut before multibyte", Contents{Text: true, MaxCharacters: 20}, "Whale whale whale: 鯨"},
		{"cut inside multibyte run", Contents{Text: true, MaxCharacters: 21}, "Whale whale whale: 鯨の"},
		{"limit beyond text", Contents{Text: true, MaxCharacters: 1000}, whaleDocs[0].Text},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := s.Search(context.Background(), Query{Text: "whale", NumResults: 1, Contents: tt.contents})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Results) != 1 || resp.Results[0].Text == nil {
				t.Fatalf("results = %+v, want one with text", resp.Results)
			}
			if got := *resp.Results[0].Text; got != tt.want {
				t.Errorf("text = %q, want %q", got, tt.want)
			}
			if resp.Results[0].Document.Text != whaleDocs[0].Text {
				t.Errorf("document text changed to %q; only the contents text is cut", resp.Results[0].Document.Text)
			}
		})
	}
}

func TestSearchNumResultsAndFilter(t *testing.T) {
	var docs []cari.Document
	for i := 0; i < 25; i++ {
		docs = append(docs, cari.Document{URL: fmt.Sprintf("https://d%d.example/", i%3), ID: fmt.Sprintf("d%02d", i),
			Text: strings.Repeat("whale ", i+1) + "ocean"})
	}
	s := New(newLocal(t, docs...), Options{})
	resp, err := s.Search(context.Background(), Query{Text: "whale"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != DefaultNumResults {
		t.Errorf("%d results, want the default %d", len(resp.Results), DefaultNumResults)
	}
	resp, err = s.Search(context.Background(), Query{Text: "whale", NumResults: 5,
		Filter: store.Filter{IncludeDomains: []string{"WWW.D1.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 5 {
		t.Fatalf("%d results, want 5", len(resp.Results))
	}
	for _, r := range resp.Results {
		if r.Document.Domain != "d1.example" {
			t.Errorf("result %s on %s passed a d1.example filter", r.Document.ID, r.Document.Domain)
		}
	}
}

func TestSearchErrors(t *testing.T) {
	s := New(newLocal(t, whaleDocs...), Options{})
	for _, typ := range []Type{TypeNeural, TypeHybrid} {
		if _, err := s.Search(context.Background(), Query{Text: "whale", Type: typ}); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%v search: err = %v, want ErrUnavailable", typ, err)
		}
	}
	_, err := s.Search(context.Background(), Query{Text: "whale", NumResults: 500})
	var fe *cari.FieldError
	if !errors.As(err, &fe) || fe.Field != "num_results" {
		t.Errorf("NumResults 500: err = %v, want a FieldError on num_results", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Search(ctx, Query{Text: "whale"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: err = %v, want context.Canceled", err)
	}
}

// vanishingStore returns hits whose documents may be gone, as when a
// document is deleted between retrieval and loading.
type vanishingStore struct {
	hits    []store.Hit
	docs    map[string]cari.Document
	loadErr error
}

func (v vanishingStore) SearchKeyword(context.Context, store.KeywordQuery) ([]store.Hit, error) {
	return v.hits, nil
}

func (v vanishingStore) Terms(text string) []string { return strings.Fields(text) }

func (v vanishingStore) MatchDocuments(context.Context, string, []string) (map[string]store.MatchedDocument, error) {
	return nil, nil
}

func (v vanishingStore) SearchVector(context.Context, store.VectorQuery) ([]store.Hit, error) {
	return v.hits, nil
}

func (v vanishingStore) Documents(context.Context, []string) (map[string]cari.Document, error) {
	return v.docs, v.loadErr
}

func (v vanishingStore) IDsForURLs(context.Context, []string) (map[string]string, error) {
	return nil, nil
}

func TestSearchDropsVanishedDocuments(t *testing.T) {
	store := vanishingStore{
		hits: []store.Hit{{ID: "a", Score: 3}, {ID: "gone", Score: 2}, {ID: "b", Score: 1}},
		docs: map[string]cari.Document{"a": {ID: "a"}, "b": {ID: "b"}},
	}
	resp, err := New(store, Options{}).Search(context.Background(), Query{Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 2 || resp.Results[0].Document.ID != "a" || resp.Results[1].Document.ID != "b" || resp.Results[1].Score != 1 {
		t.Errorf("results = %+v, want a then b", resp.Results)
	}

	store.loadErr = errors.New("disk on fire")
	if _, err := New(store, Options{}).Search(context.Background(), Query{Text: "x"}); !errors.Is(err, store.loadErr) {
		t.Errorf("err = %v, want the store's error wrapped", err)
	}
}
