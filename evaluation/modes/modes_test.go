package modes

import (
	"context"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/store"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		mode   string
		typ    searcher.Type
		rerank bool
	}{
		{"keyword", searcher.TypeKeyword, false}, {"vector", searcher.TypeNeural, false},
		{"hybrid", searcher.TypeHybrid, false}, {"rerank", searcher.TypeHybrid, true},
		{"served", searcher.TypeAuto, true},
	} {
		typ, rerank, err := Parse(tc.mode)
		if err != nil || typ != tc.typ || rerank != tc.rerank {
			t.Errorf("Parse(%s) = %v, %v, %v", tc.mode, typ, rerank, err)
		}
	}
	for _, mode := range []string{"auto", "", "bm25"} {
		if _, _, err := Parse(mode); err == nil {
			t.Errorf("Parse(%q) accepted", mode)
		}
	}
}

func TestQuery(t *testing.T) {
	for _, tc := range []struct {
		mode    string
		vectors bool
		typ     searcher.Type
	}{
		{"rerank", true, searcher.TypeHybrid}, {"rerank", false, searcher.TypeKeyword},
		{"hybrid", false, searcher.TypeHybrid}, {"served", false, searcher.TypeAuto},
	} {
		q, err := Query(tc.mode, tc.vectors)
		if err != nil || q.Type != tc.typ || q.Rerank == nil {
			t.Errorf("Query(%s, vectors %t) = %+v, %v; want type %v", tc.mode, tc.vectors, q, err, tc.typ)
		}
	}
	if _, err := Query("auto", true); err == nil {
		t.Error("Query(auto): no error")
	}
}

// termStore is a keyword-only searcher.Store whose documents are their
// ids: a document matches a query that names its id.
type termStore struct{ ids []string }

func (s termStore) SearchKeyword(_ context.Context, q store.KeywordQuery) ([]store.Hit, error) {
	var hits []store.Hit
	for i, id := range s.ids {
		if strings.Contains(q.Text, id) {
			hits = append(hits, store.Hit{ID: id, Score: float64(len(s.ids) - i)})
		}
	}
	return hits, nil
}

func (termStore) SearchVector(context.Context, store.VectorQuery) ([]store.Hit, error) {
	return nil, nil
}

func (termStore) Documents(_ context.Context, ids []string) (map[string]cari.Document, error) {
	docs := map[string]cari.Document{}
	for _, id := range ids {
		docs[id] = cari.Document{ID: id, Text: id}
	}
	return docs, nil
}

func (termStore) IDsForURLs(context.Context, []string) (map[string]string, error) { return nil, nil }
func (termStore) Terms(text string) []string                                      { return strings.Fields(text) }
func (termStore) MatchDocuments(context.Context, string, []string) (map[string]store.MatchedDocument, error) {
	return nil, nil
}

// TestSearch: the ranking is the searcher's results, best first.
func TestSearch(t *testing.T) {
	s := searcher.New(termStore{ids: []string{"alpha", "beta", "gamma"}}, searcher.Options{})
	r, err := Search(s, searcher.Query{Type: searcher.TypeKeyword})(context.Background(), "gamma alpha")
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != 2 || r[0].DocID != "alpha" || r[1].DocID != "gamma" {
		t.Errorf("ranking %+v, want alpha then gamma", r)
	}
	if _, err := Search(s, searcher.Query{Type: searcher.TypeNeural})(context.Background(), "alpha"); err == nil {
		t.Error("a neural search without an embedder: no error")
	}
}
