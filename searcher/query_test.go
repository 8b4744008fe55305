package searcher

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

func TestQueryNormalize(t *testing.T) {
	jan := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	many := func(n int, s string) []string { return slices.Repeat([]string{s}, n) }
	tests := []struct {
		name      string
		q         Query
		wantField string // "" for a valid query
		wantMsg   string // substring of the error
	}{
		{"defaults", Query{Text: "whales"}, "", ""},
		{"empty", Query{}, "query", "must not be empty"},
		{"only spaces", Query{Text: " \t\n "}, "query", "must not be empty"},
		{"invalid UTF-8", Query{Text: "caf\xe9"}, "query", "not valid UTF-8"},
		{"NUL byte", Query{Text: "a\x00b"}, "query", "NUL"},
		{"max characters multibyte", Query{Text: strings.Repeat("é", DefaultMaxQueryChars)}, "", ""},
		{"too many characters", Query{Text: strings.Repeat("é", DefaultMaxQueryChars+1)}, "query", "at most 10000 characters, got 10001"},
		// CISI's longest query; the first limit (2,000) refused it and
		// aborted cari eval.
		{"a verbose topic", Query{Text: strings.Repeat("word ", 405)}, "", ""},
		{"unknown type", Query{Text: "x", Type: Type(9)}, "type", "9"},
		{"negative type", Query{Text: "x", Type: Type(-1)}, "type", ""},
		{"num_results 1", Query{Text: "x", NumResults: 1}, "", ""},
		{"num_results 100", Query{Text: "x", NumResults: 100}, "", ""},
		{"num_results 101", Query{Text: "x", NumResults: 101}, "num_results", "between 1 and 100, got 101"},
		{"num_results 500", Query{Text: "x", NumResults: 500}, "num_results", "between 1 and 100, got 500"},
		{"num_results negative", Query{Text: "x", NumResults: -3}, "num_results", "got -3"},
		{"negative max characters", Query{Text: "x", Contents: Contents{Text: true, MaxCharacters: -1}}, "contents.text.max_characters", "got -1"},
		{"domain with scheme and path", Query{Text: "x", Filter: store.Filter{IncludeDomains: []string{"ok.com", "http://x.com/path"}}},
			"filters.include_domains[1]", "not a bare host name"},
		{"domain with port", Query{Text: "x", Filter: store.Filter{ExcludeDomains: []string{"x.com:8080"}}}, "filters.exclude_domains[0]", ""},
		{"empty domain", Query{Text: "x", Filter: store.Filter{IncludeDomains: []string{" "}}}, "filters.include_domains[0]", ""},
		{"too long domain", Query{Text: "x", Filter: store.Filter{IncludeDomains: []string{strings.Repeat("a", 254)}}}, "filters.include_domains[0]", ""},
		{"max domains", Query{Text: "x", Filter: store.Filter{ExcludeDomains: many(MaxDomains, "a.com")}}, "", ""},
		{"too many domains", Query{Text: "x", Filter: store.Filter{IncludeDomains: many(MaxDomains+1, "a.com")}}, "filters.include_domains", "at most 1000 entries, got 1001"},
		{"max phrases", Query{Text: "x", Filter: store.Filter{IncludeText: many(MaxPhrases, "p")}}, "", ""},
		{"too many phrases", Query{Text: "x", Filter: store.Filter{IncludeText: many(MaxPhrases+1, "p")}}, "filters.include_text", "at most 10 phrases, got 11"},
		{"too many exclude phrases", Query{Text: "x", Filter: store.Filter{ExcludeText: many(MaxPhrases+1, "p")}}, "filters.exclude_text", ""},
		{"blank phrase", Query{Text: "x", Filter: store.Filter{ExcludeText: []string{"ok", "  "}}}, "filters.exclude_text[1]", ""},
		{"long phrase", Query{Text: "x", Filter: store.Filter{IncludeText: []string{strings.Repeat("ü", MaxPhraseChars+1)}}}, "filters.include_text[0]", ""},
		{"phrase at limit", Query{Text: "x", Filter: store.Filter{IncludeText: []string{strings.Repeat("ü", MaxPhraseChars)}}}, "", ""},
		{"invalid UTF-8 phrase", Query{Text: "x", Filter: store.Filter{IncludeText: []string{"\xff\xfe"}}}, "filters.include_text[0]", ""},
		{"language too short", Query{Text: "x", Filter: store.Filter{Languages: []string{"en", "e"}}}, "filters.languages[1]", "not a BCP 47"},
		{"language with space", Query{Text: "x", Filter: store.Filter{Languages: []string{"en GB"}}}, "filters.languages[0]", ""},
		{"too many languages", Query{Text: "x", Filter: store.Filter{Languages: many(MaxLanguages+1, "en")}}, "filters.languages", "got 21"},
		{"published end before start", Query{Text: "x", Filter: store.Filter{PublishedFrom: jan, PublishedTo: jan.Add(-time.Second)}},
			"filters.published_date.end", "before start"},
		{"crawl end before start", Query{Text: "x", Filter: store.Filter{CrawledFrom: jan, CrawledTo: jan.AddDate(0, 0, -1)}},
			"filters.crawl_date.end", "before start"},
		{"equal start and end", Query{Text: "x", Filter: store.Filter{PublishedFrom: jan, PublishedTo: jan}}, "", ""},
		{"open start", Query{Text: "x", Filter: store.Filter{PublishedTo: jan}}, "", ""},
		{"open end", Query{Text: "x", Filter: store.Filter{CrawledFrom: jan}}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			err := q.Normalize(0)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Normalize() = %v, want nil", err)
				}
				return
			}
			var fe *cari.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Normalize() = %v, want a *cari.FieldError for %s", err, tt.wantField)
			}
			if fe.Field != tt.wantField || !strings.Contains(fe.Reason, tt.wantMsg) {
				t.Errorf("Normalize() = %q (field %q), want field %q with a reason containing %q", err, fe.Field, tt.wantField, tt.wantMsg)
			}
		})
	}
}

// The query limit is the searcher's setting, for the query and the
// highlights query alike.
func TestQueryCharsSetting(t *testing.T) {
	s := New(vanishingStore{}, Options{MaxQueryChars: 50})
	ctx := context.Background()
	for _, q := range []Query{
		{Text: strings.Repeat("a", 51)},
		{Text: "a", Contents: Contents{Highlights: &Highlights{Query: strings.Repeat("a", 51)}}},
	} {
		var fe *cari.FieldError
		if _, err := s.Search(ctx, q); !errors.As(err, &fe) || !strings.Contains(fe.Reason, "at most 50 characters") {
			t.Errorf("a 51-character query on a searcher allowing 50: %v", err)
		}
	}
	if _, err := s.Search(ctx, Query{Text: strings.Repeat("a", 50)}); err != nil {
		t.Errorf("a 50-character query on a searcher allowing 50: %v", err)
	}
}

// CheckNumResults is the one wording of the num_results bound, whether the
// bound is the searcher's or a server's lower cap.
func TestCheckNumResults(t *testing.T) {
	for _, tc := range []struct {
		n, limit int
		want     string // "" when valid
	}{
		{1, 0, ""},
		{100, 0, ""},
		{101, 0, "must be between 1 and 100, got 101"},
		{0, 0, "must be between 1 and 100, got 0"},
		{-1, 0, "must be between 1 and 100, got -1"},
		{20, 20, ""},
		{21, 20, "must be between 1 and 20, got 21"},
		{101, 500, "must be between 1 and 100, got 101"},
	} {
		err := CheckNumResults(tc.n, tc.limit)
		var fe *cari.FieldError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckNumResults(%d, %d) = %v, want nil", tc.n, tc.limit, err)
		case tc.want != "" && (!errors.As(err, &fe) || fe.Field != "num_results" || fe.Reason != tc.want):
			t.Errorf("CheckNumResults(%d, %d) = %v, want num_results %q", tc.n, tc.limit, err, tc.want)
		}
	}
}

func TestQueryNormalizeFills(t *testing.T) {
	q := Query{
		Text: "  blue whale \n",
		Filter: store.Filter{
			IncludeDomains: []string{"WWW.Example.COM", " docs.example.org. "},
			ExcludeDomains: []string{"www.Spam.example"},
		},
	}
	if err := q.Normalize(0); err != nil {
		t.Fatal(err)
	}
	if q.Text != "blue whale" {
		t.Errorf("Text = %q, want it trimmed", q.Text)
	}
	if q.NumResults != DefaultNumResults {
		t.Errorf("NumResults = %d, want the default %d", q.NumResults, DefaultNumResults)
	}
	if q.Type != TypeAuto {
		t.Errorf("Type = %v, want auto", q.Type)
	}
	if want := []string{"example.com", "docs.example.org"}; !slices.Equal(q.Filter.IncludeDomains, want) {
		t.Errorf("IncludeDomains = %q, want %q", q.Filter.IncludeDomains, want)
	}
	if want := []string{"spam.example"}; !slices.Equal(q.Filter.ExcludeDomains, want) {
		t.Errorf("ExcludeDomains = %q, want %q", q.Filter.ExcludeDomains, want)
	}
}

func TestParseType(t *testing.T) {
	tests := []struct {
		in   string
		want Type
		ok   bool
	}{
		{"", TypeAuto, true},
		{"auto", TypeAuto, true},
		{"Keyword", TypeKeyword, true},
		{"NEURAL", TypeNeural, true},
		{"vector", TypeNeural, true},
		{"hybrid", TypeHybrid, true},
		{"bm25", 0, false},
		{" keyword", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseType(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseType(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		var fe *cari.FieldError
		if err != nil && (!errors.As(err, &fe) || fe.Field != "type") {
			t.Errorf("ParseType(%q) error %v is not a FieldError on type", tt.in, err)
		}
		if tt.ok && tt.in != "" && tt.in != "vector" {
			if s := got.String(); !strings.EqualFold(s, tt.in) {
				t.Errorf("%v.String() = %q, want %q", got, s, strings.ToLower(tt.in))
			}
		}
	}
	if s := Type(42).String(); s != "Type(42)" {
		t.Errorf("Type(42).String() = %q", s)
	}
}
