package local

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// maxScoreParams are BM25 parameters at the edges of the bound idf·(k1+1):
// k1 0 (every match scores idf), b 0 and 1, a k1 near 0 and a huge one.
var maxScoreParams = []store.BM25{{K1: 0, B: 1}, {K1: 0, B: 0.3}, {K1: 1.2, B: 0}, {K1: 1.2, B: 1}, {K1: 1.5, B: 1}, {K1: 3, B: 0.75}, {K1: 1e-9, B: 1}, {K1: 100, B: 1}}

// TestMaxScoreMatchesExhaustiveAtEdges compares the pruned search with
// scoring every posting on small random collections full of ties (a tiny
// vocabulary, many identical bodies), in two languages' fields with
// parameters drawn from maxScoreParams, after deletions, for queries that
// repeat terms, limits beyond the matches and a filter admitting nothing.
//
// Each batch is a commit that waits for its fsyncs, and small batches make
// hundreds of them; -short builds fewer collections in at most five
// batches each, which still leaves several segments, replacements across
// them and deletions.
func TestMaxScoreMatchesExhaustiveAtEdges(t *testing.T) {
	ctx := context.Background()
	searchedBoth := 0
	seeds := uint64(24)
	if testing.Short() {
		seeds = 4
	}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(seed, 99))
		opts := Options{BM25: maxScoreParams[rng.IntN(len(maxScoreParams))], IndonesianBM25: maxScoreParams[rng.IntN(len(maxScoreParams))]}
		s := newStore(t, opts)
		vocab, n := 3+rng.IntN(10), 20+rng.IntN(300)
		batch := 1 + rng.IntN(60)
		if testing.Short() {
			batch = max(batch, n/5+1)
		}
		for start := 0; start < n; start += batch {
			var docs []cari.Document
			for i := start; i < min(start+batch, n); i++ {
				words := []string{"w0q", "w1q", "w0q"}
				if rng.IntN(3) > 0 {
					words = make([]string, 1+rng.IntN([]int{3, 40}[rng.IntN(2)]))
					for j := range words {
						words[j] = fmt.Sprintf("w%dq", rng.IntN(vocab))
					}
				}
				docs = append(docs, cari.Document{
					// IDs repeat across batches: later batches replace.
					ID:       fmt.Sprintf("d%04d", (i*7919)%(n*2/3+1)),
					URL:      fmt.Sprintf("https://%s/%d", []string{"a.example", "b.example"}[i%2], i),
					Text:     strings.Join(words, " "),
					Language: []string{"en", "id", ""}[rng.IntN(3)],
				})
			}
			docs = slices.CompactFunc(docs, func(a, b cari.Document) bool { return a.ID == b.ID })
			upsert(t, s, docs...)
			if rng.IntN(3) == 0 {
				if _, err := s.Delete(ctx, []string{docs[0].ID}); err != nil {
					t.Fatal(err)
				}
			}
		}
		filters := []store.Filter{{}, {IncludeDomains: []string{"a.example"}}, {IncludeDomains: []string{"none.example"}}}
		for i := range 60 {
			words := make([]string, 1+rng.IntN(8))
			for j := range words {
				words[j] = fmt.Sprintf("w%dq", rng.IntN(vocab+2))
			}
			if rng.IntN(2) == 0 {
				words = append(words, words[0], words[0])
			}
			q := store.KeywordQuery{Text: strings.Join(words, " "), Limit: 1 + rng.IntN(n+10), Filter: filters[i%len(filters)]}
			if i%4 == 0 {
				q.Limit = 1 + rng.IntN(4)
			}
			if planFields(t, s, q) == 2 {
				searchedBoth++
			}
			got, want := mustSearch(t, s, q), exhaustiveBM25(t, s, q)
			if len(got) != 0 || len(want) != 0 {
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d, %+v, query %q limit %d filter %+v:\n got %v\nwant %v", seed, opts, q.Text, q.Limit, q.Filter, got, want)
				}
			}
		}
	}
	if searchedBoth == 0 {
		t.Error("no query searched two body fields: the collections are not what the test needs")
	}
}

// planFields is the number of body fields q searches.
func planFields(t *testing.T, s *Store, q store.KeywordQuery) int {
	t.Helper()
	r, release, err := s.snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	plan, err := s.planKeyword(context.Background(), r, q)
	if err != nil || plan == nil {
		t.Fatalf("plan %q: %v, %v", q.Text, plan, err)
	}
	return len(plan.fields)
}

// TestMaxScoreMatchesExhaustiveWithParameters runs the Zipf collection,
// where pruning skips most postings, under the edge parameters. -short
// indexes a smaller collection (its undeclared languages are detected one
// document at a time) in fewer segments (each a commit that waits for its
// fsyncs), and asks fewer queries.
func TestMaxScoreMatchesExhaustiveWithParameters(t *testing.T) {
	n, segments, queries := 2000, 8, 80
	if testing.Short() {
		n, segments, queries = 320, 4, 40
	}
	for pi, p := range []store.BM25{{K1: 0, B: 1}, {K1: 100, B: 1}, {K1: 1.5, B: 1}, {K1: 0.3, B: 0}} {
		docs, draw := zipfCorpus(n, uint64(10+pi))
		for i := range docs {
			docs[i].Language = []string{"en", "id", ""}[i%3]
		}
		s := newStore(t, Options{BM25: p, IndonesianBM25: store.BM25{K1: p.K1 / 2, B: 1 - p.B/2}})
		for i := 0; i < len(docs); i += n / segments {
			upsert(t, s, docs[i:min(i+n/segments, len(docs))]...)
		}
		rng := rand.New(rand.NewPCG(uint64(pi), 3))
		for i := range queries {
			words := make([]string, 1+rng.IntN(9))
			for j := range words {
				words[j] = draw()
			}
			q := store.KeywordQuery{Text: strings.Join(words, " "), Limit: []int{1, 2, 10, 50}[i%4]}
			if got, want := mustSearch(t, s, q), exhaustiveBM25(t, s, q); !slices.Equal(got, want) {
				t.Fatalf("%+v, query %q limit %d:\n got %v\nwant %v", p, q.Text, q.Limit, got, want)
			}
		}
	}
}
