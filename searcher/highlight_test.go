package searcher

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/indexer/corpus"
)

func newHighlighter(t *testing.T) highlighter {
	t.Helper()
	c, err := analysis.NewChunker(analysis.ChunkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := newLocal(t) // an empty store still analyzes text
	return highlighter{terms: s.Terms, chunker: c}
}

func TestHighlights(t *testing.T) {
	h := newHighlighter(t)
	text := "Cats sleep a lot. Blue whales eat krill in cold water. Whales sing songs. Cars are loud. Krill are tiny crustaceans."
	got := h.highlights(text, "what do blue whales eat", Highlights{NumSentences: 1, PerURL: 2})
	if len(got) != 2 {
		t.Fatalf("got %d highlights, want 2: %+v", len(got), got)
	}
	if got[0].Text != "Blue whales eat krill in cold water." {
		t.Errorf("best highlight = %q", got[0].Text)
	}
	if got[1].Text != "Whales sing songs." || got[1].Score >= got[0].Score {
		t.Errorf("second highlight = %+v, want the other whale sentence, scored lower", got[1])
	}
	// Two-sentence windows: the best holds both whale sentences, and every
	// other window with a whale overlaps it, so there is only one.
	if got := h.highlights(text, "whales", Highlights{NumSentences: 2, PerURL: 5}); len(got) != 1 || got[0].Text != "Blue whales eat krill in cold water. Whales sing songs." {
		t.Errorf("two-sentence windows without overlap: %+v", got)
	}
	if got := h.highlights(text, "the of", Highlights{}); got != nil {
		t.Errorf("a stop-word query highlighted %+v", got)
	}
	if got := h.highlights("", "whales", Highlights{}); got != nil {
		t.Errorf("empty text highlighted %+v", got)
	}
}

// TestHighlightsFindQueryTermsOnSciFact measures the acceptance property:
// the highlight sentence of a relevant document contains the query's key
// terms more often than a random sentence of the same document.
func TestHighlightsFindQueryTermsOnSciFact(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the SciFact corpus")
	}
	dir := filepath.Join("..", "..", "shared", "datasets", "scifact")
	if _, err := os.Stat(filepath.Join(dir, "corpus.jsonl.gz")); err != nil {
		t.Skip("needs ../shared/datasets/scifact")
	}
	docs := map[string]cari.Document{}
	r, err := corpus.Open(filepath.Join(dir, "corpus.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	for rec, err := range r.All() {
		if err != nil {
			t.Fatal(err)
		}
		docs[rec.ID] = cari.Document{ID: rec.ID, Title: rec.Title, Text: rec.Text}
	}
	r.Close()
	queries, err := evaluation.LoadQueries(filepath.Join(dir, "queries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	qrels, err := evaluation.LoadQrels(filepath.Join(dir, "qrels.tsv"), true)
	if err != nil {
		t.Fatal(err)
	}
	h := newHighlighter(t)
	var hlCover, randCover float64
	pairs := 0
	for _, q := range queries {
		want := distinct(h.terms(q.Text))
		if len(want) == 0 {
			continue
		}
		for id := range qrels.Gains(q.ID) {
			d, ok := docs[id]
			if !ok {
				continue
			}
			sents := h.chunker.Sentences(d.Text)
			hl := h.highlights(d.Text, q.Text, Highlights{NumSentences: 1})
			if len(sents) < 2 {
				continue
			}
			pairs++
			if len(hl) > 0 {
				hlCover += coverage(h, hl[0].Text, want)
			}
			var sum float64
			for _, s := range sents {
				sum += coverage(h, d.Text[s.Start:s.End], want)
			}
			randCover += sum / float64(len(sents))
		}
	}
	hlCover /= float64(pairs)
	randCover /= float64(pairs)
	t.Logf("%d relevant (query, document) pairs: highlight covers %.3f of the query's terms, an average sentence %.3f", pairs, hlCover, randCover)
	if pairs < 300 || hlCover < 1.5*randCover {
		t.Errorf("highlights cover %.3f of query terms against %.3f for a random sentence over %d pairs; want at least 1.5x", hlCover, randCover, pairs)
	}
}

func coverage(h highlighter, text string, want map[string]bool) float64 {
	got := distinct(h.terms(text))
	n := 0
	for t := range want {
		if got[t] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}
