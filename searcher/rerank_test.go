package searcher

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// lengthReranker prefers shorter documents: a real, if simple, scoring
// function whose order differs from BM25's on whaleDocs.
type lengthReranker struct {
	calls atomic.Int32
	seen  atomic.Int32
	err   error
	delay time.Duration
}

func (r *lengthReranker) Name() string { return "test/length" }

func (r *lengthReranker) Rerank(ctx context.Context, _ string, cands []Candidate) ([]float64, error) {
	r.calls.Add(1)
	r.seen.Add(int32(len(cands)))
	if r.delay > 0 {
		select {
		case <-time.After(r.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	out := make([]float64, len(cands))
	for i, c := range cands {
		out[i] = -float64(len(c.Document.Text))
	}
	return out, nil
}

func TestRerankReordersAndCaches(t *testing.T) {
	rr := &lengthReranker{}
	s := New(newLocal(t, whaleDocs...), Options{Reranker: rr})
	resp, err := s.Search(context.Background(), Query{Text: "whale", NumResults: 3, Debug: true})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Reranked || resp.RerankSkipped != "" {
		t.Fatalf("Reranked = %v, skipped %q", resp.Reranked, resp.RerankSkipped)
	}
	for i := 1; i < len(resp.Results); i++ {
		if len(resp.Results[i].Document.Text) < len(resp.Results[i-1].Document.Text) {
			t.Errorf("results not in re-ranker order: %q before %q", resp.Results[i-1].Document.ID, resp.Results[i].Document.ID)
		}
	}
	if d := resp.Results[0].Debug; d == nil || !d.Reranked || d.KeywordRank == 0 {
		t.Errorf("debug of the first result = %+v, want its keyword rank and rerank score", d)
	}
	seen := rr.seen.Load()
	if _, err := s.Search(context.Background(), Query{Text: "whale", NumResults: 3}); err != nil {
		t.Fatal(err)
	}
	if rr.seen.Load() != seen {
		t.Errorf("a repeated query sent %d more candidates to the re-ranker; the cache should answer", rr.seen.Load()-seen)
	}
	off := false
	resp, err = s.Search(context.Background(), Query{Text: "whale", NumResults: 3, Rerank: &off})
	if err != nil || resp.Reranked {
		t.Errorf("rerank off: reranked %v, err %v", resp.Reranked, err)
	}
}

// loadCounter counts, per document, the loads of its stored fields that
// the searcher asks of the store.
type loadCounter struct {
	Store
	mu    sync.Mutex
	loads map[string]int
}

func (c *loadCounter) count(ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.loads[id]++
	}
}

func (c *loadCounter) Documents(ctx context.Context, ids []string) (map[string]cari.Document, error) {
	c.count(ids)
	return c.Store.Documents(ctx, ids)
}

func (c *loadCounter) MatchDocuments(ctx context.Context, query string, ids []string) (map[string]store.MatchedDocument, error) {
	c.count(ids)
	return c.Store.MatchDocuments(ctx, query, ids)
}

// TestRerankLoadsEachDocumentOnce: a re-ranked search reads each
// candidate's stored fields once, for its text and its match features
// alike, and the results re-use what the re-ranker read. Each load reads
// the whole stored document, the text included; re-ranking the top 50
// once cost three loads of each of the top results.
func TestRerankLoadsEachDocumentOnce(t *testing.T) {
	c := &loadCounter{Store: newLocal(t, whaleDocs...), loads: map[string]int{}}
	s := New(c, Options{Reranker: &lengthReranker{}})
	resp, err := s.Search(context.Background(), Query{Text: "whale", NumResults: 2, Contents: Contents{Text: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Reranked || len(resp.Results) != 2 {
		t.Fatalf("reranked %v, %d results; want a re-ranked search with 2 results", resp.Reranked, len(resp.Results))
	}
	for _, r := range resp.Results {
		if r.Text == nil || *r.Text == "" || *r.Text != r.Document.Text {
			t.Errorf("result %s: text %v, want its document's text", r.Document.ID, r.Text)
		}
	}
	if len(c.loads) < 3 {
		t.Errorf("loaded %v; want every candidate of the first stage loaded", c.loads)
	}
	for id, n := range c.loads {
		if n != 1 {
			t.Errorf("document %s loaded %d times, want once", id, n)
		}
	}
}

func TestRerankFailureKeepsFirstStageOrder(t *testing.T) {
	store := newLocal(t, whaleDocs...)
	plain, err := New(store, Options{}).Search(context.Background(), Query{Text: "whale", NumResults: 3})
	if err != nil {
		t.Fatal(err)
	}
	for name, rr := range map[string]*lengthReranker{
		"error":   {err: errors.New("HTTP 503 from model server")},
		"timeout": {delay: time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			s := New(store, Options{Reranker: rr, Rerank: RerankOptions{Timeout: 20 * time.Millisecond}})
			resp, err := s.Search(context.Background(), Query{Text: "whale", NumResults: 3})
			if err != nil {
				t.Fatalf("a failing re-ranker failed the search: %v", err)
			}
			if resp.Reranked || resp.RerankSkipped == "" {
				t.Errorf("reranked %v, reason %q; want false with a reason", resp.Reranked, resp.RerankSkipped)
			}
			if name == "timeout" && !strings.Contains(resp.RerankSkipped, "within") {
				t.Errorf("timeout reason = %q", resp.RerankSkipped)
			}
			for i := range plain.Results {
				if resp.Results[i].Document.ID != plain.Results[i].Document.ID {
					t.Errorf("result %d = %s, want first-stage %s", i, resp.Results[i].Document.ID, plain.Results[i].Document.ID)
				}
			}
		})
	}
}

func TestRerankAskedWithoutReranker(t *testing.T) {
	on := true
	resp, err := New(newLocal(t, whaleDocs...), Options{}).Search(context.Background(), Query{Text: "whale", Rerank: &on})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Reranked || !strings.Contains(resp.RerankSkipped, "no re-ranker") {
		t.Errorf("reranked %v, reason %q", resp.Reranked, resp.RerankSkipped)
	}
	if _, err := New(newLocal(t), Options{}).Search(context.Background(), Query{Text: "x", RerankTopN: 101}); err == nil {
		t.Error("rerank_top_n 101 accepted")
	}
}
