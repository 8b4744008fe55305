package local

import (
	"context"
	"strings"
	"testing"

	"github.com/cari-search/cari/store"

	"github.com/cari-search/cari"
)

// TestFoldedGenerationIsRefused: a data directory built when the Indonesian
// analysis folded letters to ASCII is not searched with the unfolded
// analysis that replaced it. Open refuses it and names the reindex; with
// Rebuild it takes no writes, and a reindex of its stored documents makes a
// generation that records, and searches with, the new analysis.
func TestFoldedGenerationIsRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	docs := []cari.Document{
		{ID: "kafe", Text: "Kami minum kopi di kafe itu setiap pagi.", Language: "id"},
		{ID: "cafe", Text: "Kami minum kopi di Café Batavia setiap pagi.", Language: "id"},
	}

	folded := indonesian
	folded.Folding = true
	oldName := store.AnalyzerName(folded)
	if oldName == bodyAnalyzer {
		t.Fatalf("the folded and the default analysis record the same name %q", oldName)
	}
	func() {
		saved, savedName := indonesian, bodyAnalyzer
		defer func() { indonesian, bodyAnalyzer = saved, savedName }()
		indonesian, bodyAnalyzer = folded, oldName
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Upsert(ctx, entries(docs...)); err != nil {
			t.Fatal(err)
		}
		// Folded, "cafe" finds the document that writes "Café".
		if got := keywordIDs(t, s, "cafe"); len(got) != 1 || got[0] != "cafe" {
			t.Fatalf("folded index, query cafe: %v, want [cafe]", got)
		}
	}()

	_, err := Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "cari reindex --stored") || !strings.Contains(err.Error(), oldName) ||
		!strings.Contains(err.Error(), `now "no folding"`) {
		t.Fatalf("Open of a folded generation: %v, want a refusal naming its analyzer and cari reindex --stored", err)
	}

	s, err := Open(dir, Options{Rebuild: true})
	if err != nil {
		t.Fatalf("Open with Rebuild: %v", err)
	}
	defer s.Close()
	if err := s.Upsert(ctx, entries(cari.Document{ID: "x", Text: "teks baru", Language: "id"})); err == nil {
		t.Fatal("the folded generation took a write")
	}
	b := mustBegin(t, s, "stored:old")
	mustCommit(t, b, 1, entries(docs...)...)
	if err := b.Swap(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.Generation().Analyzer; got != bodyAnalyzer {
		t.Fatalf("rebuilt generation records %q, want %q", got, bodyAnalyzer)
	}
	if got := keywordIDs(t, s, "cafe"); len(got) != 0 {
		t.Errorf("unfolded index, query cafe: %v, want nothing (Café keeps its accent)", got)
	}
	if got := keywordIDs(t, s, "café"); len(got) != 1 || got[0] != "cafe" {
		t.Errorf("unfolded index, query café: %v, want [cafe]", got)
	}
	if _, err := s.Rollback(""); err == nil {
		t.Error("rolled back to the folded generation")
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
