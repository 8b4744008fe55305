package local

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/store"
)

// zipfCorpus makes n documents of words drawn with Zipf's law from a
// vocabulary of made-up words, on two domains, as a real collection's
// posting lists are: a few long, most short.
func zipfCorpus(n int, seed uint64) (docs []cari.Document, draw func() string) {
	rng := rand.New(rand.NewPCG(seed, 7))
	z := rand.NewZipf(rng, 1.1, 2, 399)
	draw = func() string { return fmt.Sprintf("w%dq", z.Uint64()) }
	for i := range n {
		words := make([]string, 5+rng.IntN(60))
		for j := range words {
			words[j] = draw()
		}
		host := []string{"a.example", "b.example"}[i%2]
		docs = append(docs, cari.Document{
			ID:   fmt.Sprintf("d%04d", i),
			URL:  fmt.Sprintf("https://%s/%d", host, i),
			Text: strings.Join(words, " "),
		})
	}
	return docs, draw
}

// exhaustiveBM25 scores every posting of every query term into a map, the
// plain way, and returns the limit best by score, then ID.
func exhaustiveBM25(t *testing.T, s *Store, q store.KeywordQuery) []store.Hit {
	t.Helper()
	ctx := context.Background()
	r, release, err := s.snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	plan, err := s.planKeyword(ctx, r, q)
	if err != nil || plan == nil {
		t.Fatalf("plan %q: %v, %v", q.Text, plan, err)
	}
	type list struct {
		tfr   index.TermFieldReader
		term  string
		bm    store.BM25
		avgdl float64
	}
	var lists []list
	df := map[string]uint64{}
	for _, f := range plan.fields {
		docs, avgdl := plan.stats.field(f.Field)
		if docs <= 0 {
			continue
		}
		for _, term := range f.Terms {
			tfr, err := r.TermFieldReader(ctx, []byte(term), f.Field, true, true, false)
			if err != nil {
				t.Fatal(err)
			}
			defer tfr.Close()
			lists = append(lists, list{tfr, term, s.opts.fieldBM25(f.Field), avgdl})
			df[term] = max(df[term], tfr.Count())
		}
	}
	scores := map[uint64]float64{}
	for _, l := range lists {
		bm := l.bm
		idf := bm.IDF(float64(plan.stats.Docs), float64(df[l.term]))
		for {
			p, err := l.tfr.Next(nil)
			if err != nil {
				t.Fatal(err)
			}
			if p == nil {
				break
			}
			if num := p.ID.Value(); plan.allow.has(num) {
				dl := math.Round(1 / float64(p.Norm*p.Norm))
				scores[num] += bm.TermScore(idf, float64(p.Freq), dl, l.avgdl)
			}
		}
	}
	var hits []store.Hit
	buf := make(index.IndexInternalID, 8)
	for num, sc := range scores {
		buf.SetValue(num)
		id, err := r.ExternalID(buf)
		if err != nil {
			t.Fatal(err)
		}
		hits = append(hits, store.Hit{ID: id, Score: sc})
	}
	slices.SortFunc(hits, func(a, b store.Hit) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.ID, b.ID))
	})
	return hits[:min(q.Limit, len(hits))]
}

// TestMaxScoreMatchesExhaustive checks that pruning changes no result: for
// random queries over a Zipf corpus in several segments, with and without
// filters and at several depths, the pruned search returns exactly the IDs
// and scores of scoring every posting.
func TestMaxScoreMatchesExhaustive(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 800
	}
	docs, draw := zipfCorpus(n, 1)
	s := newStore(t, Options{})
	for i := 0; i < len(docs); i += 200 {
		upsert(t, s, docs[i:min(i+200, len(docs))]...)
	}
	filters := []store.Filter{{}, {IncludeDomains: []string{"a.example"}}, {ExcludeDomains: []string{"a.example"}}}
	rng := rand.New(rand.NewPCG(2, 3))
	for i := range 120 {
		words := make([]string, 1+rng.IntN(7))
		for j := range words {
			words[j] = draw()
		}
		q := store.KeywordQuery{
			Text:   strings.Join(words, " "),
			Limit:  []int{1, 3, 10, 100}[i%4],
			Filter: filters[i%len(filters)],
		}
		got := mustSearch(t, s, q)
		want := exhaustiveBM25(t, s, q)
		if !slices.Equal(got, want) {
			t.Fatalf("query %q limit %d filter %+v:\n got %v\nwant %v", q.Text, q.Limit, q.Filter, got, want)
		}
	}
}

// TestMaxScoreTiesAtTheLastPlace checks that documents tied with the last
// place are all weighed, so the order by ID decides which are returned,
// as scoring every posting would.
func TestMaxScoreTiesAtTheLastPlace(t *testing.T) {
	s := newStore(t, Options{})
	var docs []cari.Document
	for i := range 30 {
		// Identical bodies tie; their IDs descend in insertion order, so
		// the document numbers and the IDs disagree.
		docs = append(docs, doc(fmt.Sprintf("t%02d", 29-i), "kelp reef kelp"))
	}
	docs = append(docs, doc("best", "kelp kelp kelp reef"), doc("other", "reef sand sand sand sand sand"))
	for i := 0; i < len(docs); i += 7 {
		upsert(t, s, docs[i:min(i+7, len(docs))]...)
	}
	for _, limit := range []int{1, 2, 5, 31} {
		q := store.KeywordQuery{Text: "kelp reef", Limit: limit}
		if got, want := mustSearch(t, s, q), exhaustiveBM25(t, s, q); !slices.Equal(got, want) {
			t.Errorf("limit %d:\n got %v\nwant %v", limit, got, want)
		}
	}
	if got := hitIDs(mustSearch(t, s, store.KeywordQuery{Text: "kelp reef", Limit: 3})); !slices.Equal(got, []string{"best", "t00", "t01"}) {
		t.Errorf("top 3 = %v, want best then the ties by ID", got)
	}
}

// TestMaxScorePrunes checks that pruning skips work: with a common and a
// rare term, the top 10 is settled after scoring far fewer documents than
// contain either term. -short indexes fewer documents (each has its
// language detected), in as many segments.
func TestMaxScorePrunes(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 800
	}
	docs, _ := zipfCorpus(n, 4)
	s := newStore(t, Options{})
	for i := 0; i < len(docs); i += n / 4 {
		upsert(t, s, docs[i:min(i+n/4, len(docs))]...)
	}
	ctx := context.Background()
	r, release, err := s.snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	// w2q is the most frequent word, w150q a rare one.
	q := store.KeywordQuery{Text: "w2q w150q w3q", Limit: 10}
	plan, err := s.planKeyword(ctx, r, q)
	if err != nil || plan == nil {
		t.Fatalf("plan: %v, %v", plan, err)
	}
	best, completed, err := s.topBM25(ctx, r, plan, q.Limit)
	if err != nil {
		t.Fatal(err)
	}
	matching := map[uint64]bool{}
	for _, f := range plan.fields {
		for _, term := range f.Terms {
			tfr, err := r.TermFieldReader(ctx, []byte(term), f.Field, false, false, false)
			if err != nil {
				t.Fatal(err)
			}
			for p, err := tfr.Next(nil); p != nil || err != nil; p, err = tfr.Next(nil) {
				if err != nil {
					t.Fatal(err)
				}
				matching[p.ID.Value()] = true
			}
			tfr.Close()
		}
	}
	if len(best) < 10 || len(matching) < n/2 {
		t.Fatalf("%d results of %d matching documents: the corpus is not what the test needs", len(best), len(matching))
	}
	if completed*2 > len(matching) {
		t.Errorf("scored %d of %d matching documents in full; want pruning to skip at least half", completed, len(matching))
	}
	t.Logf("scored %d of %d matching documents in full", completed, len(matching))
}

// TestMaxScoreMatchesExhaustiveAcrossLanguages runs real English and
// Indonesian queries over a collection holding both languages, so that
// queries search several body fields, each with its own BM25 parameters,
// and compares the pruned search with scoring every posting.
func TestMaxScoreMatchesExhaustiveAcrossLanguages(t *testing.T) {
	var docs []cari.Document
	var texts []string
	for _, name := range []string{"scifact", "tydiqa-id"} {
		c := sharedCollection(t, name, "")
		all := loadCorpusT(t, c.corpus)
		docs = append(docs, all[:min(600, len(all))]...)
		queries, err := evaluation.LoadQueries(c.queries)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range queries[:min(40, len(queries))] {
			texts = append(texts, q.Text)
		}
	}
	s := newStore(t, Options{})
	for i := 0; i < len(docs); i += 300 {
		upsert(t, s, docs[i:min(i+300, len(docs))]...)
	}
	r, release, err := s.snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stats, err := snapshotStats(r)
	release()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Fields[store.FieldBody].Docs < 500 || stats.Fields[store.FieldBodyID].Docs < 500 {
		t.Fatalf("field documents %+v: want both languages' fields filled", stats.Fields)
	}
	for i, text := range texts {
		q := store.KeywordQuery{Text: text, Limit: []int{1, 10, 100}[i%3]}
		if got, want := mustSearch(t, s, q), exhaustiveBM25(t, s, q); !slices.Equal(got, want) {
			t.Fatalf("query %q limit %d:\n got %v\nwant %v", q.Text, q.Limit, got, want)
		}
	}
}
