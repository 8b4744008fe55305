package rerank

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local"
)

// oceanStore is a local store with three documents on whales, of which
// BM25 ranks the krill one last.
func oceanStore(t *testing.T) *local.Store {
	t.Helper()
	s, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	docs := []cari.Document{
		{ID: "song", Title: "Whale song", Text: "Whale whale whale: the whale sings to other whales."},
		{ID: "size", Title: "Whales", Text: "The blue whale is the largest whale."},
		{ID: "food", Title: "Baleen", Text: "A whale filters krill from sea water."},
	}
	var entries []store.Entry
	for _, d := range docs {
		if err := d.Normalize(); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, store.Entry{Doc: d, Chunks: []cari.Chunk{{End: len(d.Text)}}})
	}
	if err := s.Upsert(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSearcherWithChatReranker runs searches through the real searcher
// with the pointwise client: the model's judgement reorders the results,
// and a server that fails or stalls leaves the first-stage order with a
// reason, never a failed search.
func TestSearcherWithChatReranker(t *testing.T) {
	store := oceanStore(t)
	q := searcher.Query{Text: "whale diet", NumResults: 3}
	plain, err := searcher.New(store, searcher.Options{}).Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Results[0].Document.ID == "food" {
		t.Fatalf("the test needs BM25 not to rank the krill document first")
	}

	for _, tc := range []struct {
		name      string
		handler   func(w http.ResponseWriter, r *http.Request, body map[string]any, n int)
		reranked  bool
		first     string
		reasonHas string
		// timeout is the re-ranking deadline: short only where the
		// server stalls, so a server that answers is never raced
		// against a deadline that load could make it miss.
		timeout time.Duration
	}{
		{
			name: "judged",
			handler: func(w http.ResponseWriter, _ *http.Request, body map[string]any, _ int) {
				if strings.Contains(userDocument(body), "krill") {
					writeJSON(w, 200, vllmAnswer(alt{"yes", -0.01}, alt{"no", -4.6}))
				} else {
					writeJSON(w, 200, vllmAnswer(alt{"no", -0.2}, alt{"yes", -1.7}))
				}
			},
			reranked: true, first: "food",
		},
		{
			name: "server error",
			handler: func(w http.ResponseWriter, _ *http.Request, _ map[string]any, _ int) {
				writeJSON(w, 503, `{"error":{"message":"model is loading"}}`)
			},
			first: plain.Results[0].Document.ID, reasonHas: "HTTP 503: model is loading",
		},
		{
			name: "stalled server",
			handler: func(w http.ResponseWriter, r *http.Request, _ map[string]any, _ int) {
				<-r.Context().Done()
			},
			first: plain.Results[0].Document.ID, reasonHas: "did not answer within 200ms", timeout: 200 * time.Millisecond,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.handler)
			c, err := NewChat(ChatOptions{Server: quick(srv.v1())})
			if err != nil {
				t.Fatal(err)
			}
			timeout := tc.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			s := searcher.New(store, searcher.Options{Reranker: c, Rerank: searcher.RerankOptions{Timeout: timeout}})
			// A searcher that ignored the re-ranking deadline would wait
			// out this generous one of its caller's instead: whether it did
			// is told by the context, not by a time load could stretch.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			resp, err := s.Search(ctx, q)
			if err != nil {
				t.Fatalf("the search failed: %v", err)
			}
			if ctx.Err() != nil {
				t.Errorf("the search ran out its caller's 2 minutes: the %v re-ranking deadline was not kept", timeout)
			}
			if resp.Reranked != tc.reranked || resp.Results[0].Document.ID != tc.first || !strings.Contains(resp.RerankSkipped, tc.reasonHas) {
				t.Errorf("reranked %v, first %q, reason %q; want %v, %q, %q", resp.Reranked, resp.Results[0].Document.ID, resp.RerankSkipped, tc.reranked, tc.first, tc.reasonHas)
			}
		})
	}
}
