package searcher

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local"
)

// FuzzSearch sends arbitrary query text and filters through validation and,
// when they pass, a real keyword search on a small local index. Validation
// must answer a *cari.FieldError naming the field, or accept a query that
// then searches without error: what it lets through may not fail deeper
// down. Seeds are in testdata/fuzz/FuzzSearch.
func FuzzSearch(f *testing.F) {
	f.Add("whale krill", 0, 10, "a.example,b.example", "", "whale", "", "en", int64(0), int64(0))
	f.Add(`"whale song" -krill +reef title:x^2 *~ (a OR b) AND NOT c`, 1, 3, "", "c.example", "", "krill", "", int64(0), int64(0))
	f.Add(strings.Repeat("whale ", 400), 3, 100, "", "", "", "", "en-GB,zh-Hant-TW", int64(1e18), int64(-1e18))
	f.Add("bad \xff\xfe utf8", 0, 0, "\xff.example", "", "\x00", "", "e\x00", int64(0), int64(0))
	f.Add("nul\x00byte", 0, -1, "a.example:80", "", "", "", "", int64(0), int64(0))
	f.Add("鯨の歌", 2, 101, "", "", strings.Repeat("p", 201), "", "", int64(-62135596800), int64(253402300799))
	s := New(fuzzStore(f), Options{})
	f.Fuzz(func(t *testing.T, text string, typ, num int, include, exclude, mustHave, mustNot, langs string, from, to int64) {
		q := Query{
			Text:       text,
			Type:       Type(typ),
			NumResults: num,
			Filter: store.Filter{
				IncludeDomains: splitList(include),
				ExcludeDomains: splitList(exclude),
				IncludeText:    splitList(mustHave),
				ExcludeText:    splitList(mustNot),
				Languages:      splitList(langs),
				PublishedFrom:  time.Unix(from, 0),
				PublishedTo:    time.Unix(to, 0),
			},
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := s.Search(ctx, q)
		var fe *cari.FieldError
		switch {
		case err == nil:
		case errors.Is(err, ErrUnavailable):
			// Neural and hybrid search need an embedding model; this
			// store has none, and says so.
		case errors.As(err, &fe):
			if fe.Field == "" || fe.Reason == "" {
				t.Fatalf("field error without a field or reason: %v", err)
			}
		default:
			t.Fatalf("query %q passed validation and then failed: %v", text, err)
		}
	})
}

// splitList turns "a,b" into [a b]; "" into none.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// fuzzStore is a local store of whaleDocs for a fuzz target.
func fuzzStore(f *testing.F) *local.Store {
	s, err := local.Open(f.TempDir(), local.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	entries := make([]store.Entry, len(whaleDocs))
	for i, d := range whaleDocs {
		if err := d.Normalize(); err != nil {
			f.Fatal(err)
		}
		entries[i] = store.Entry{Doc: d, Chunks: []cari.Chunk{{End: len(d.Text)}}}
	}
	if err := s.Upsert(context.Background(), entries); err != nil {
		f.Fatal(err)
	}
	return s
}

// TestSearchDateRangeAcrossEpoch is the hang FuzzSearch found: bleve's
// numeric range searcher never returned on some date ranges crossing 1970
// (-1s to 1s), whatever the request's deadline.
func TestSearchDateRangeAcrossEpoch(t *testing.T) {
	s := New(newLocal(t, whaleDocs...), Options{})
	for _, r := range [][2]int64{{-1, 1}, {-30, 25}, {-1, 0}, {0, 1}} {
		done := make(chan error, 1)
		go func() {
			_, err := s.Search(context.Background(), Query{Text: "whale", Type: TypeKeyword,
				Filter: store.Filter{PublishedFrom: time.Unix(r[0], 0), PublishedTo: time.Unix(r[1], 0)}})
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("published %ds to %ds: %v", r[0], r[1], err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("published %ds to %ds: the search did not return", r[0], r[1])
		}
	}
}
