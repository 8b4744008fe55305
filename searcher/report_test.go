package searcher

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A response says whether its results were re-ranked and, when not, why,
// for every way a search can go.
func TestRerankReportsWhatHappened(t *testing.T) {
	st := newLocal(t, whaleDocs...)
	on, off := true, false
	with := New(st, Options{Reranker: &lengthReranker{}})
	without := New(st, Options{})
	for _, tc := range []struct {
		name     string
		s        *Searcher
		q        Query
		reranked bool
		reason   string
	}{
		{"re-ranked", with, Query{Text: "whale"}, true, ""},
		{"no results", with, Query{Text: "qwxzzyplk"}, false, "nothing to re-rank"},
		{"turned off", with, Query{Text: "whale", Rerank: &off}, false, "not requested"},
		{"no re-ranker", without, Query{Text: "whale"}, false, "no re-ranker"},
		{"asked, no re-ranker", without, Query{Text: "whale", Rerank: &on}, false, "no re-ranker"},
	} {
		resp, err := tc.s.Search(context.Background(), tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if resp.Reranked != tc.reranked || (resp.RerankSkipped == "") != (tc.reason == "") || !strings.Contains(resp.RerankSkipped, tc.reason) {
			t.Errorf("%s: reranked %v, reason %q; want %v, %q", tc.name, resp.Reranked, resp.RerankSkipped, tc.reranked, tc.reason)
		}
	}
}

// lengthReranker's scores are all negative; results past the re-ranked
// head continue below it. No score that reaches the caller is negative,
// and the order is the re-ranker's.
func TestRerankedScoresArePositive(t *testing.T) {
	s := New(newLocal(t, whaleDocs...), Options{Reranker: &lengthReranker{}})
	resp, err := s.Search(context.Background(), Query{Text: "whale", RerankTopN: 2, Debug: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 3 || !resp.Reranked {
		t.Fatalf("%d results, reranked %v; want 3 re-ranked", len(resp.Results), resp.Reranked)
	}
	for i, r := range resp.Results {
		if r.Score <= 0 {
			t.Errorf("result %d (%s) scores %v, want above 0", i, r.Document.ID, r.Score)
		}
		if i > 0 && r.Score > resp.Results[i-1].Score {
			t.Errorf("result %d scores %v after %v, want no more", i, r.Score, resp.Results[i-1].Score)
		}
	}
	if d := resp.Results[0].Debug; d.RerankScore != -float64(len(resp.Results[0].Document.Text)) {
		t.Errorf("debug rerank score %v, want the re-ranker's own", d.RerankScore)
	}
}

func TestPositiveScoreKeepsOrder(t *testing.T) {
	in := []float64{-1e300, -53.3, -3.34, -1, -1e-9, 0, 1e-9, 0.5, 1, 10.9, 1e300}
	for i, s := range in {
		if p := positiveScore(s); p <= 0 || (i > 0 && p <= positiveScore(in[i-1])) {
			t.Errorf("positiveScore(%v) = %v after positiveScore(%v) = %v; want positive and increasing", s, p, in[i-1], positiveScore(in[i-1]))
		}
	}
}

// tickClock is a clock that moves one millisecond each time it is read.
type tickClock struct{ t time.Time }

func (c *tickClock) now() time.Time {
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// Stage timings run from the start of the search, each from the end of
// the previous one, so they add up to everything the search's clock saw
// after its first reading, which starts the search.
func TestStageTimingsAddUp(t *testing.T) {
	clock := &tickClock{t: time.Unix(0, 0)}
	st := newHybridStore(t, hybridDocs...)
	s := New(st, Options{Embedder: trigramEmbedder{}, Model: "test/trigram", Reranker: &lengthReranker{}, Now: clock.now})
	for _, q := range []Query{{Text: "blue whales", Type: TypeHybrid}, {Text: "krill"}, {Text: "blue whales", Type: TypeNeural}} {
		start := clock.t
		resp, err := s.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		var sum time.Duration
		for _, st := range resp.Timings {
			if st.Duration <= 0 {
				t.Errorf("%q: stage %s took %v; every stage reads the clock once", q.Text, st.Stage, st.Duration)
			}
			sum += st.Duration
		}
		if took := clock.t.Sub(start) - time.Millisecond; sum != took {
			t.Errorf("%q: stages %v add up to %v, want the %v the search took", q.Text, resp.Timings, sum, took)
		}
	}
	clock.t = time.Unix(0, 0)
	resp, err := s.FindSimilar(context.Background(), SimilarQuery{ID: "whales"})
	if err != nil {
		t.Fatal(err)
	}
	var sum time.Duration
	for _, st := range resp.Timings {
		sum += st.Duration
	}
	if took := clock.t.Sub(time.Unix(0, 0)) - time.Millisecond; sum != took {
		t.Errorf("find-similar stages %v add up to %v, want %v", resp.Timings, sum, took)
	}
}
