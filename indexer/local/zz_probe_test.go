package local

import (
	"context"
	"fmt"
	"testing"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
)

func TestZZProbe(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 12; i++ {
		d := cari.Document{ID: fmt.Sprintf("d%02d", i), Text: "tie tie words here"}
		d.Normalize()
		if err := s.Upsert(ctx, []cari.Document{d}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func() string {
		h, _ := s.SearchKeyword(ctx, indexer.KeywordQuery{Text: "tie", Limit: 20})
		out := ""
		for _, x := range h {
			out += x.ID[1:] + " "
		}
		return out
	}
	fmt.Println(ids())
	adv, _ := s.idx.Advanced()
	if err := adv.(*scorch.Scorch).ForceMerge(ctx, nil); err != nil {
		t.Fatal(err)
	}
	fmt.Println(ids())
}
