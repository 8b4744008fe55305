package local

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/index/scorch"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

func TestKeywordRanking(t *testing.T) {
	tests := []struct {
		name          string
		docs          []cari.Document
		query         string
		better, worse string
	}{
		{"more query terms matched ranks higher",
			[]cari.Document{doc("two", "apple banana zinc yarn"), doc("one", "apple quartz zinc yarn")},
			"apple banana", "two", "one"},
		{"rarer term weighs more",
			[]cari.Document{doc("rare", "rare filler xylem"), doc("common", "common filler xylem"),
				doc("o1", "common other"), doc("o2", "common stuff"), doc("o3", "common thing")},
			"common rare", "rare", "common"},
		{"shorter document beats longer at equal tf",
			[]cari.Document{doc("long", "whale ocean sea wave tide salt"), doc("short", "whale ocean")},
			"whale", "short", "long"},
		{"higher tf beats lower at equal length",
			[]cari.Document{doc("tf1", "whale krill ocean sea"), doc("tf2", "whale whale ocean sea")},
			"whale", "tf2", "tf1"},
		{"title words count like text",
			[]cari.Document{{ID: "title", Title: "Whale", Text: "ocean"}, doc("none", "ocean krill")},
			"whale ocean", "title", "none"},
		{"query is stemmed and lower-cased",
			[]cari.Document{doc("stem", "the whale swims"), doc("other", "the krill swims")},
			"WHALES", "stem", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, Options{})
			upsert(t, s, tt.docs...)
			hits := mustSearch(t, s, store.KeywordQuery{Text: tt.query, Limit: 10})
			for i := 1; i < len(hits); i++ {
				if hits[i].Score > hits[i-1].Score {
					t.Fatalf("hits not in score order: %v", hits)
				}
			}
			ids := hitIDs(hits)
			b, w := slices.Index(ids, tt.better), slices.Index(ids, tt.worse)
			if b < 0 || (w >= 0 && w < b) {
				t.Errorf("query %q ranked %v (%v); want %s above %s", tt.query, ids, hits, tt.better, tt.worse)
			}
			if w >= 0 && hits[b].Score == hits[w].Score {
				t.Errorf("%s and %s tie at %v; want a strictly higher score", tt.better, tt.worse, hits[b].Score)
			}
		})
	}
}

// tinyCorpus has hand-counted term frequencies and lengths: the body
// analyzer drops no tokens from these texts and leaves the words unstemmed.
var tinyCorpus = []struct {
	doc cari.Document
	tf  map[string]float64
	dl  float64
}{
	{doc("d1", "cat dog"), map[string]float64{"cat": 1, "dog": 1}, 2},
	{doc("d2", "cat cat fish bird"), map[string]float64{"cat": 2, "fish": 1, "bird": 1}, 4},
	{doc("d3", "dog frog frog frog fish bird"), map[string]float64{"dog": 1, "frog": 3, "fish": 1, "bird": 1}, 6},
	{cari.Document{ID: "d4", Title: "Bird", Text: "cat"}, map[string]float64{"bird": 1, "cat": 1}, 2},
}

// expectedScores computes BM25 by hand over tinyCorpus: N = 4, avgdl = 14/4.
func expectedScores(p store.BM25, queryTerms []string) map[string]float64 {
	n, total := float64(len(tinyCorpus)), 0.0
	df := map[string]float64{}
	for _, d := range tinyCorpus {
		total += d.dl
		for term := range d.tf {
			df[term]++
		}
	}
	avgdl := total / n
	want := map[string]float64{}
	for _, term := range queryTerms {
		for _, d := range tinyCorpus {
			if tf := d.tf[term]; tf > 0 {
				want[d.doc.ID] += p.TermScore(p.IDF(n, df[term]), tf, d.dl, avgdl)
			}
		}
	}
	return want
}

func TestKeywordScoresAreBM25(t *testing.T) {
	tests := []struct {
		name  string
		p     store.BM25
		query string
		terms []string
	}{
		{"one common term", store.DefaultBM25, "cat", []string{"cat"}},
		{"rare and common", store.DefaultBM25, "cat frog", []string{"cat", "frog"}},
		{"every term", store.DefaultBM25, "cat dog fish bird frog", []string{"cat", "dog", "fish", "bird", "frog"}},
		{"repeated query term counts twice", store.DefaultBM25, "cat cat", []string{"cat", "cat"}},
		{"stop words and case ignored", store.DefaultBM25, "The FROG and the Fish", []string{"frog", "fish"}},
		{"custom k1 and b", store.BM25{K1: 2, B: 0.3}, "cat frog bird", []string{"cat", "frog", "bird"}},
		{"b 0", store.BM25{K1: 0.9, B: 0}, "fish dog", []string{"fish", "dog"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, Options{BM25: tt.p})
			for _, d := range tinyCorpus {
				upsert(t, s, d.doc) // one batch each: statistics must add up across batches
			}
			want := expectedScores(tt.p, tt.terms)
			hits := mustSearch(t, s, store.KeywordQuery{Text: tt.query, Limit: 10})
			if len(hits) != len(want) {
				t.Fatalf("got %d hits %v, want %d: %v", len(hits), hits, len(want), want)
			}
			for _, h := range hits {
				// bleve stores the field norm as a float32, so document
				// lengths come back with a relative error near 1e-7.
				if w, ok := want[h.ID]; !ok || math.Abs(h.Score-w) > 1e-6*w {
					t.Errorf("score of %s = %.12g, want %.12g", h.ID, h.Score, w)
				}
			}
		})
	}
}

func TestKeywordLimit(t *testing.T) {
	s := newStore(t, Options{})
	var docs []cari.Document
	for i := 1; i <= 30; i++ {
		docs = append(docs, doc(fmt.Sprintf("d%02d", i), strings.Repeat("whale ", i%7+1)+"ocean"))
	}
	upsert(t, s, docs...)
	all := mustSearch(t, s, store.KeywordQuery{Text: "whale", Limit: 100})
	if len(all) != 30 {
		t.Fatalf("Limit 100 gave %d hits, want all 30", len(all))
	}
	for _, limit := range []int{1, 5, 29, 30} {
		got := mustSearch(t, s, store.KeywordQuery{Text: "whale", Limit: limit})
		if !slices.Equal(got, all[:limit]) {
			t.Errorf("Limit %d = %v, want the first %d of the full ranking %v", limit, got, limit, all[:limit])
		}
	}
	for _, limit := range []int{0, -1} {
		if got := mustSearch(t, s, store.KeywordQuery{Text: "whale", Limit: limit}); len(got) != 0 {
			t.Errorf("Limit %d gave %d hits, want none", limit, len(got))
		}
	}
}

func TestKeywordTiesDeterministic(t *testing.T) {
	s := newStore(t, Options{})
	var docs []cari.Document
	for i := 0; i < 20; i++ {
		docs = append(docs, doc(fmt.Sprintf("tie%02d", i), "identical whale text"))
	}
	docs = append(docs, doc("best", "whale whale whale"))
	upsert(t, s, docs...)
	first := mustSearch(t, s, store.KeywordQuery{Text: "whale", Limit: 8})
	if len(first) != 8 || first[0].ID != "best" {
		t.Fatalf("hits = %v, want 8 starting with best", first)
	}
	for i := 2; i < len(first); i++ {
		if first[i].Score != first[1].Score {
			t.Fatalf("identical documents scored differently: %v", first)
		}
	}
	for i := 0; i < 5; i++ {
		if again := mustSearch(t, s, store.KeywordQuery{Text: "whale", Limit: 8}); !slices.Equal(again, first) {
			t.Fatalf("repeated search = %v, first gave %v", again, first)
		}
	}
}

func TestKeywordTiesSurviveMerge(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	for i := 0; i < 12; i++ {
		upsert(t, s, doc(fmt.Sprintf("d%02d", i), "tie tie words"))
	}
	before := mustSearch(t, s, store.KeywordQuery{Text: "tie", Limit: 20})
	adv, err := s.serving.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		t.Skipf("index is %T, not scorch", adv)
	}
	if err := sc.ForceMerge(ctx, nil); err != nil {
		t.Fatal(err)
	}
	after := mustSearch(t, s, store.KeywordQuery{Text: "tie", Limit: 20})
	if !slices.Equal(hitIDs(before), hitIDs(after)) {
		t.Errorf("tie order changed by a merge:\nbefore %v\n after %v", hitIDs(before), hitIDs(after))
	}
}

func TestKeywordNoTerms(t *testing.T) {
	s := newStore(t, Options{})
	upsert(t, s, doc("a", "the whale and the sea"))
	for _, q := range []store.KeywordQuery{
		{Text: "", Limit: 10},
		{Text: "   \t\n", Limit: 10},
		{Text: "the and of a", Limit: 10},
		{Text: "?! ... --", Limit: 10},
		{Text: "the", Limit: 10, Filter: store.Filter{IncludeDomains: []string{"example.com"}}},
		{Text: "zebra", Limit: 10},
	} {
		hits, err := s.SearchKeyword(context.Background(), q)
		if err != nil || len(hits) != 0 {
			t.Errorf("SearchKeyword(%q) = %v, %v; want no hits and no error", q.Text, hits, err)
		}
	}
}

// A query longer than MaxQueryTerms terms is searched by its first
// MaxQueryTerms, not refused: the term after the bound is not read.
func TestKeywordTooManyTerms(t *testing.T) {
	s := newStore(t, Options{})
	upsert(t, s, doc("a", "w1 w2"), doc("last", fmt.Sprintf("w%d", store.MaxQueryTerms)))
	words := make([]string, store.MaxQueryTerms+1)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i)
	}
	hits, err := s.SearchKeyword(context.Background(), store.KeywordQuery{Text: strings.Join(words, " "), Limit: 10})
	if err != nil {
		t.Fatalf("%d terms: %v", len(words), err)
	}
	if len(hits) != 1 || hits[0].ID != "a" {
		t.Errorf("%d terms: hits %v, want a only (the last term is beyond the bound)", len(words), hits)
	}
}

// The bound holds in every field a query searches: English drops the stop
// words that the neutral field, searched too, keeps, and both are cut.
func TestKeywordTooManyTermsInAnyField(t *testing.T) {
	s := newStore(t, Options{})
	en, other := doc("en", "w1 w2"), doc("fr", "w1 w2")
	en.Language, other.Language = "en", "fr"
	upsert(t, s, en, other)
	// An English query: its own field comes first and keeps MaxQueryTerms
	// terms, the neutral field 100 more.
	text := strings.Repeat("protein binding ", store.MaxQueryTerms/2) + strings.Repeat("the ", 100)
	fields := s.analyzer.QueryFieldsAmong(text, nil)
	if len(fields) < 2 || fields[0].Field != store.FieldBody || len(fields[0].Terms) != store.MaxQueryTerms {
		t.Fatalf("the query is not analysed as English first with %d terms: %d fields", store.MaxQueryTerms, len(fields))
	}
	for _, f := range store.LimitQueryTerms(fields) {
		if len(f.Terms) > store.MaxQueryTerms {
			t.Errorf("field %s keeps %d terms, want at most %d", f.Field, len(f.Terms), store.MaxQueryTerms)
		}
	}
	if _, err := s.SearchKeyword(context.Background(), store.KeywordQuery{Text: text, Limit: 1}); err != nil {
		t.Errorf("%d terms in the neutral field: %v, want it searched by its first %d", store.MaxQueryTerms+100, err, store.MaxQueryTerms)
	}
}

func TestKeywordCancelled(t *testing.T) {
	s := newStore(t, Options{})
	upsert(t, s, doc("a", "whale"), cari.Document{ID: "b", Text: "whale", Domain: "example.com"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, f := range []store.Filter{{}, {IncludeDomains: []string{"example.com"}}, {ExcludeText: []string{"krill"}}} {
		hits, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: "whale", Limit: 10, Filter: f})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("filter %+v: SearchKeyword with a cancelled context = %v, %v; want context.Canceled", f, hits, err)
		}
	}
}
