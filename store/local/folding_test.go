package local

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// TestGenerationOfOtherFoldingIsRefused: a data directory built with the
// other choice of ASCII folding than this build's is not searched with this
// build's analysis (folding was the default, then issue 13's inverse-cloze
// set dropped it and issue 21's real questions brought it back, so data
// directories of both kinds exist). Open refuses it and names the reindex;
// with Rebuild it takes no writes, and a reindex of its stored documents
// makes a generation that records, and searches with, this build's
// analysis.
func TestGenerationOfOtherFoldingIsRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	docs := []cari.Document{
		{ID: "kafe", Text: "Kami minum kopi di kafe itu setiap pagi.", Language: "id"},
		{ID: "cafe", Text: "Kami minum kopi di Café Batavia setiap pagi.", Language: "id"},
	}
	// cafeHits is what the query "cafe" finds in an index folded or not:
	// folded, it finds the document that writes "Café".
	cafeHits := func(folded bool) []string {
		if folded {
			return []string{"cafe"}
		}
		return []string{}
	}

	other := indonesian
	other.Folding = !indonesian.Folding
	oldName := store.AnalyzerName(other)
	if oldName == bodyAnalyzer {
		t.Fatalf("the folded and the unfolded analysis record the same name %q", oldName)
	}
	func() {
		saved, savedName := indonesian, bodyAnalyzer
		defer func() { indonesian, bodyAnalyzer = saved, savedName }()
		indonesian, bodyAnalyzer = other, oldName
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Upsert(ctx, entries(docs...)); err != nil {
			t.Fatal(err)
		}
		if got, want := keywordIDs(t, s, "cafe"), cafeHits(other.Folding); !slices.Equal(got, want) {
			t.Fatalf("index with folding %t, query cafe: %v, want %v", other.Folding, got, want)
		}
	}()

	_, err := Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "cari reindex --stored") || !strings.Contains(err.Error(), oldName) ||
		!strings.Contains(err.Error(), `"no folding"`) {
		t.Fatalf("Open of a generation with folding %t: %v, want a refusal naming its analyzer, the folding change and cari reindex --stored", other.Folding, err)
	}

	s, err := Open(dir, Options{Rebuild: true})
	if err != nil {
		t.Fatalf("Open with Rebuild: %v", err)
	}
	defer s.Close()
	if err := s.Upsert(ctx, entries(cari.Document{ID: "x", Text: "teks baru", Language: "id"})); err == nil {
		t.Fatal("the refused generation took a write")
	}
	b := mustBegin(t, s, "stored:old")
	mustCommit(t, b, 1, entries(docs...)...)
	if err := b.Swap(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.Generation().Analyzer; got != bodyAnalyzer {
		t.Fatalf("rebuilt generation records %q, want %q", got, bodyAnalyzer)
	}
	if got, want := keywordIDs(t, s, "cafe"), cafeHits(indonesian.Folding); !slices.Equal(got, want) {
		t.Errorf("rebuilt index with folding %t, query cafe: %v, want %v", indonesian.Folding, got, want)
	}
	if got := keywordIDs(t, s, "café"); len(got) != 1 || got[0] != "cafe" {
		t.Errorf("rebuilt index, query café: %v, want [cafe]", got)
	}
	if _, err := s.Rollback(""); err == nil {
		t.Error("rolled back to the refused generation")
	}
}

func keywordIDs(t *testing.T, s *Store, text string) []string {
	t.Helper()
	hits, err := s.SearchKeyword(context.Background(), store.KeywordQuery{Text: text, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	return ids
}
