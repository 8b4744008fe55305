package qdrant_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/qdrant"
	"github.com/cari-search/cari/store/qdrant/qdranttest"
)

// TestIndonesianBM25IsRecorded: the Indonesian field's documents are
// weighted with its own BM25 parameters, so a collection weighted with
// other ones (as collections were with issue 13's k1 1.5, b 1) is refused
// rather than searched with weights the process would not make.
func TestIndonesianBM25IsRecorded(t *testing.T) {
	_, addr := qdranttest.Start(t, "")
	ctx := context.Background()
	issue13 := store.BM25{K1: 1.5, B: 1}
	s, err := qdrant.Open(ctx, qdrant.Options{Addr: addr, IndonesianBM25: issue13})
	if err != nil {
		t.Fatal(err)
	}
	d := cari.Document{ID: "i", Text: "Pemerintah daerah membangun jalan baru di desa itu.", Language: "id"}
	if err := s.Upsert(ctx, []store.Entry{{Doc: d, Chunks: []cari.Chunk{{End: len(d.Text)}}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err = qdrant.Open(ctx, qdrant.Options{Addr: addr})
	want := "k1=1.5 b=1 for the Indonesian field, this process uses k1=1.2 b=0.75"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open with the default Indonesian parameters: %v, want an error saying %q", err, want)
	}
	again, err := qdrant.Open(ctx, qdrant.Options{Addr: addr, IndonesianBM25: issue13})
	if err != nil {
		t.Fatalf("Open with the recorded parameters: %v", err)
	}
	defer again.Close()
	if got := keywordIDs(t, again, "jalan desa"); len(got) != 1 || got[0] != "i" {
		t.Errorf("search with the recorded parameters: %v, want [i]", got)
	}
}
