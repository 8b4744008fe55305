package local

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// lowRankCorpus returns 150 documents on a.example (a third of them on
// docs.a.example) that match "whale" strongly and 50 on b.example that match
// it weakly, so that without a filter every b.example document ranks below
// every a.example one. Every fifth b.example document has no published date.
func lowRankCorpus() []cari.Document {
	var docs []cari.Document
	for i := 0; i < 150; i++ {
		d := cari.Document{
			ID:        fmt.Sprintf("a%03d", i),
			Text:      "whale whale whale whale blue krill",
			Domain:    "a.example",
			Language:  "en",
			Published: day(2020, 1, 1).AddDate(0, 0, i),
			Crawled:   day(2024, 1, 1).Add(time.Duration(i) * time.Hour),
		}
		if i%3 == 0 {
			d.Domain, d.Language = "docs.a.example", "en-GB"
		}
		docs = append(docs, d)
	}
	filler := strings.Repeat("plankton current tide reef coral ", 8)
	for i := 0; i < 50; i++ {
		d := cari.Document{
			ID:       fmt.Sprintf("b%03d", i),
			Text:     filler + "a blue whale " + filler,
			Domain:   "b.example",
			Language: "de-AT",
			Crawled:  day(2025, 6, 1).Add(time.Duration(i) * time.Hour),
		}
		if i%5 != 0 {
			d.Published = day(2023, 1, 1).AddDate(0, 0, i)
		}
		docs = append(docs, d)
	}
	return docs
}

func inRange(t, from, to time.Time) bool {
	return !t.IsZero() && !t.Before(from) && !t.After(to)
}

// TestFilterFillsResultsWhenMatchesRankLow is the acceptance case: a filter
// returns exactly Limit documents, all matching, when at least Limit match,
// even though the matching documents rank below many that do not.
func TestFilterFillsResultsWhenMatchesRankLow(t *testing.T) {
	corpus := lowRankCorpus()
	byID := map[string]cari.Document{}
	for _, d := range corpus {
		byID[d.ID] = d
	}
	s := newStore(t, Options{})
	upsert(t, s, corpus...)

	top := mustSearch(t, s, store.KeywordQuery{Text: "whale", Limit: 150})
	for _, h := range top {
		if !strings.HasPrefix(h.ID, "a") {
			t.Fatalf("corpus is wrong for this test: %s ranks in the unfiltered top 150", h.ID)
		}
	}

	isB := func(d cari.Document) bool { return d.Domain == "b.example" }
	tests := []struct {
		name   string
		filter store.Filter
		match  func(cari.Document) bool // the filter's meaning, written out
	}{
		{"include domain", store.Filter{IncludeDomains: []string{"b.example"}}, isB},
		{"include domain written with www", store.Filter{IncludeDomains: []string{"WWW.B.Example"}}, isB},
		{"exclude domain and its subdomains", store.Filter{ExcludeDomains: []string{"a.example"}}, isB},
		{"published range", store.Filter{PublishedFrom: day(2023, 1, 1), PublishedTo: day(2023, 12, 31)},
			func(d cari.Document) bool { return inRange(d.Published, day(2023, 1, 1), day(2023, 12, 31)) }},
		{"published from only", store.Filter{PublishedFrom: day(2022, 1, 1)},
			func(d cari.Document) bool { return !d.Published.Before(day(2022, 1, 1)) && !d.Published.IsZero() }},
		{"narrow published range skips undated", store.Filter{PublishedFrom: day(2023, 1, 5), PublishedTo: day(2023, 1, 20)},
			func(d cari.Document) bool { return inRange(d.Published, day(2023, 1, 5), day(2023, 1, 20)) }},
		{"crawled range", store.Filter{CrawledFrom: day(2025, 1, 1), CrawledTo: day(2026, 1, 1)},
			func(d cari.Document) bool { return inRange(d.Crawled, day(2025, 1, 1), day(2026, 1, 1)) }},
		{"crawled to only", store.Filter{CrawledTo: day(2024, 1, 1).Add(4 * time.Hour)},
			func(d cari.Document) bool { return !d.Crawled.After(day(2024, 1, 1).Add(4 * time.Hour)) }},
		{"include phrase", store.Filter{IncludeText: []string{"blue whale"}},
			func(d cari.Document) bool { return strings.Contains(d.Text, "blue whale") }},
		{"exclude phrase", store.Filter{ExcludeText: []string{"whale blue"}},
			func(d cari.Document) bool { return !strings.Contains(d.Text, "whale blue") }},
		{"language prefix", store.Filter{Languages: []string{"de"}},
			func(d cari.Document) bool { return strings.HasPrefix(d.Language, "de") }},
		{"subdomain language", store.Filter{Languages: []string{"en-gb"}},
			func(d cari.Document) bool { return d.Language == "en-GB" }},
		{"domain and date", store.Filter{IncludeDomains: []string{"b.example"}, PublishedTo: day(2023, 1, 20)},
			func(d cari.Document) bool { return isB(d) && inRange(d.Published, time.Time{}, day(2023, 1, 20)) }},
		{"subdomain only, published late", store.Filter{IncludeDomains: []string{"docs.a.example"}, PublishedFrom: day(2020, 5, 1)},
			func(d cari.Document) bool {
				return d.Domain == "docs.a.example" && !d.Published.Before(day(2020, 5, 1))
			}},
		{"no document matches", store.Filter{IncludeDomains: []string{"c.example"}},
			func(cari.Document) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, d := range corpus {
				if tt.match(d) {
					want = append(want, d.ID)
				}
			}
			hits := mustSearch(t, s, store.KeywordQuery{Text: "whale", Filter: tt.filter, Limit: 10})
			if len(hits) != min(10, len(want)) {
				t.Fatalf("%d hits %v, want %d (%d documents match)", len(hits), hitIDs(hits), min(10, len(want)), len(want))
			}
			for _, h := range hits {
				if !slices.Contains(want, h.ID) {
					t.Errorf("hit %s (%+v) does not match the filter", h.ID, byID[h.ID])
				}
			}
		})
	}
}

// filterCorpus is small enough to list every filter's exact result.
func filterCorpus() []cari.Document {
	return []cari.Document{
		{ID: "a1", Text: "the blue whale swims", Domain: "a.example", Language: "en",
			Published: day(2024, 1, 1), Crawled: day(2024, 2, 1)},
		{ID: "a2", Text: "whale blue is a paint colour", Domain: "docs.a.example", Language: "en-GB",
			Published: day(2024, 6, 30).Add(24*time.Hour - time.Nanosecond), Crawled: day(2024, 7, 1)},
		// b1 is labelled German, so it is analysed without English stemming.
		{ID: "b1", Text: "blue whale and blue skies, a whale", Domain: "b.example", Language: "de",
			Crawled: day(2024, 7, 1).Add(time.Nanosecond)},
		{ID: "c1", Title: "Whale", Text: "grey whale migration", URL: "https://www.c.example/x",
			Published: day(2023, 12, 31).Add(24*time.Hour - time.Nanosecond), Crawled: day(2023, 1, 1)},
		{ID: "aa", Text: "a whale on a lookalike domain", Domain: "aa.example", Language: "enm", // Middle English: shares "en" as text, not as a tag
			Published: day(2024, 1, 1).Add(time.Nanosecond), Crawled: day(2024, 1, 1)},
	}
}

func TestFilterSemantics(t *testing.T) {
	s := newStore(t, Options{})
	upsert(t, s, filterCorpus()...)
	end2024h1 := day(2024, 6, 30).Add(24*time.Hour - time.Nanosecond)
	tests := []struct {
		name   string
		filter store.Filter
		want   []string
	}{
		{"zero filter", store.Filter{}, []string{"a1", "a2", "aa", "b1", "c1"}},
		{"domain includes subdomains", store.Filter{IncludeDomains: []string{"a.example"}}, []string{"a1", "a2"}},
		{"subdomain excludes parent", store.Filter{IncludeDomains: []string{"docs.a.example"}}, []string{"a2"}},
		{"domain derived from URL without www", store.Filter{IncludeDomains: []string{"c.example"}}, []string{"c1"}},
		{"several domains", store.Filter{IncludeDomains: []string{"b.example", "www.c.example."}}, []string{"b1", "c1"}},
		{"exclude domain and subdomain", store.Filter{ExcludeDomains: []string{"a.example"}}, []string{"aa", "b1", "c1"}},
		{"exclude only subdomain", store.Filter{ExcludeDomains: []string{"docs.a.example"}}, []string{"a1", "aa", "b1", "c1"}},
		{"include and exclude same", store.Filter{IncludeDomains: []string{"a.example"}, ExcludeDomains: []string{"a.example"}}, nil},
		{"published both ends inclusive", store.Filter{PublishedFrom: day(2024, 1, 1), PublishedTo: end2024h1}, []string{"a1", "a2", "aa"}},
		{"published end is exact to the nanosecond", store.Filter{PublishedFrom: day(2024, 1, 1), PublishedTo: end2024h1.Add(-time.Nanosecond)}, []string{"a1", "aa"}},
		{"published start is exact to the nanosecond", store.Filter{PublishedFrom: day(2024, 1, 1).Add(time.Nanosecond)}, []string{"a2", "aa"}},
		{"published to only, undated excluded", store.Filter{PublishedTo: day(2023, 12, 31).Add(24*time.Hour - time.Nanosecond)}, []string{"c1"}},
		{"published range in another zone", store.Filter{PublishedFrom: day(2024, 1, 1).In(time.FixedZone("", -5*3600)), PublishedTo: day(2024, 1, 1)}, []string{"a1"}},
		{"crawled inclusive", store.Filter{CrawledFrom: day(2024, 1, 1), CrawledTo: day(2024, 7, 1)}, []string{"a1", "a2", "aa"}},
		{"crawled from only", store.Filter{CrawledFrom: day(2024, 7, 1)}, []string{"a2", "b1"}},
		{"phrase", store.Filter{IncludeText: []string{"blue whale"}}, []string{"a1", "b1"}},
		{"phrase order matters", store.Filter{IncludeText: []string{"whale blue"}}, []string{"a2"}},
		{"phrase is analyzed", store.Filter{IncludeText: []string{"Blue Whales"}}, []string{"a1"}}, // b1 is German: not stemmed
		{"phrase in the text of a titled document", store.Filter{IncludeText: []string{"grey whale migration"}}, []string{"c1"}},
		{"all phrases must appear", store.Filter{IncludeText: []string{"blue whale", "skies"}}, []string{"b1"}},
		{"exclude phrase", store.Filter{ExcludeText: []string{"blue whale"}}, []string{"a2", "aa", "c1"}},
		{"exclude any of phrases", store.Filter{ExcludeText: []string{"blue whale", "paint"}}, []string{"aa", "c1"}},
		{"language prefix", store.Filter{Languages: []string{"en"}}, []string{"a1", "a2"}},
		{"language exact subtag", store.Filter{Languages: []string{"EN_gb"}}, []string{"a2"}},
		{"more specific language does not match general", store.Filter{Languages: []string{"de-AT"}}, nil},
		{"several languages", store.Filter{Languages: []string{"de", "en-GB"}}, []string{"a2", "b1"}},
		{"domain, language and date", store.Filter{IncludeDomains: []string{"a.example"}, Languages: []string{"en"},
			PublishedFrom: day(2024, 2, 1)}, []string{"a2"}},
		{"exclusions only", store.Filter{ExcludeDomains: []string{"b.example"}, ExcludeText: []string{"blue whale"}}, []string{"a2", "aa", "c1"}},
		{"include text with exclude domain", store.Filter{IncludeText: []string{"whale"}, ExcludeDomains: []string{"a.example", "aa.example"}}, []string{"b1", "c1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := mustSearch(t, s, store.KeywordQuery{Text: "whale", Filter: tt.filter, Limit: 100})
			if got := sortedHitIDs(hits); !slices.Equal(got, tt.want) {
				t.Errorf("filter %+v matched %v, want %v", tt.filter, got, tt.want)
			}
		})
	}
}

// TestFilterKeepsScores checks that a filter only removes documents: BM25
// statistics stay those of the whole corpus.
func TestFilterKeepsScores(t *testing.T) {
	s := newStore(t, Options{})
	upsert(t, s, filterCorpus()...)
	all := hitScores(mustSearch(t, s, store.KeywordQuery{Text: "blue whale", Limit: 100}))
	filtered := mustSearch(t, s, store.KeywordQuery{Text: "blue whale", Limit: 100,
		Filter: store.Filter{IncludeDomains: []string{"b.example", "c.example"}}})
	if len(filtered) != 2 {
		t.Fatalf("filtered hits = %v, want b1 and c1", filtered)
	}
	for _, h := range filtered {
		if h.Score != all[h.ID] {
			t.Errorf("%s scores %v filtered, %v unfiltered", h.ID, h.Score, all[h.ID])
		}
	}
}

func TestFilterDatesOutsideBleveRange(t *testing.T) {
	s := newStore(t, Options{})
	upsert(t, s, filterCorpus()...)
	tests := []struct {
		name   string
		filter store.Filter
		want   []string
	}{
		{"start in 1400", store.Filter{PublishedFrom: day(1400, 1, 1), PublishedTo: day(2023, 12, 31).Add(24*time.Hour - time.Nanosecond)}, []string{"c1"}},
		{"end in 9999", store.Filter{PublishedFrom: day(2024, 1, 1).Add(time.Nanosecond), PublishedTo: day(9999, 12, 31)}, []string{"a2", "aa"}},
		{"crawled end in 9999", store.Filter{CrawledFrom: day(2024, 7, 1), CrawledTo: day(9999, 12, 31)}, []string{"a2", "b1"}},
	}
	for _, tt := range tests {
		hits, err := s.SearchKeyword(context.Background(), store.KeywordQuery{Text: "whale", Limit: 100, Filter: tt.filter})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := sortedHitIDs(hits); !slices.Equal(got, tt.want) {
			t.Errorf("%s: matched %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFilterStopWordPhrase(t *testing.T) {
	// The index drops stop words, so a phrase of stop words alone cannot be
	// matched; it is refused with an error naming the field rather than
	// silently matching nothing (include) or everything (exclude).
	s := newStore(t, Options{})
	upsert(t, s, doc("hamlet", "to be or not to be, the question"), doc("other", "the question"))
	for _, f := range []struct {
		filter store.Filter
		field  string
	}{
		{store.Filter{IncludeText: []string{"question", "to be or not to be"}}, "filters.include_text[1]"},
		{store.Filter{ExcludeText: []string{"to be or not to be"}}, "filters.exclude_text[0]"},
	} {
		_, err := s.SearchKeyword(context.Background(), store.KeywordQuery{Text: "question", Limit: 10, Filter: f.filter})
		var fe *cari.FieldError
		if !errors.As(err, &fe) || fe.Field != f.field {
			t.Errorf("filter %+v: err = %v, want a FieldError on %s", f.filter, err, f.field)
		}
	}
	hits := mustSearch(t, s, store.KeywordQuery{Text: "question", Limit: 10,
		Filter: store.Filter{IncludeText: []string{"to the question"}}})
	if got := hitIDs(hits); len(got) != 2 {
		t.Errorf("include_text %q (stop words around a content word) matched %v, want both documents", "to the question", got)
	}
}
