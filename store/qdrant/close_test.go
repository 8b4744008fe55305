package qdrant_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/qdrant"
)

// TestClosed: after Close every call fails with ErrClosed, including those
// that resolve the alias first (Pin, Upsert), and a second Close says so.
func TestClosed(t *testing.T) {
	s, _ := openDouble(t, qdrant.Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, _, pinErr := s.Pin(ctx)
	_, statsErr := s.Stats(ctx)
	_, docsErr := s.Documents(ctx, []string{"a"})
	_, kwErr := s.SearchKeyword(ctx, store.KeywordQuery{Text: "zebra", Limit: 3})
	for name, err := range map[string]error{
		"Pin":           pinErr,
		"Upsert":        s.Upsert(ctx, []store.Entry{entry("a", "zebra", nil)}),
		"Stats":         statsErr,
		"Documents":     docsErr,
		"SearchKeyword": kwErr,
		"Close":         s.Close(),
	} {
		if !errors.Is(err, qdrant.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}
