package local

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

func TestUpsertReplaces(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	upsert(t, s, doc("a", "old walrus text"), doc("b", "bystander text"))
	upsert(t, s, doc("a", "new narwhal text"))

	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != 2 {
		t.Errorf("Documents = %d after replacing one of 2, want 2", st.Documents)
	}
	if got := hitIDs(mustSearch(t, s, store.KeywordQuery{Text: "walrus", Limit: 10})); len(got) != 0 {
		t.Errorf("old text still matches: %v", got)
	}
	if got := hitIDs(mustSearch(t, s, store.KeywordQuery{Text: "narwhal", Limit: 10})); !slices.Equal(got, []string{"a"}) {
		t.Errorf("new text matches %v, want [a]", got)
	}
	docs, err := s.Documents(ctx, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if docs["a"].Text != "new narwhal text" {
		t.Errorf("stored text %q, want the replacement", docs["a"].Text)
	}
}

func TestUpsertDuplicateIDsInBatch(t *testing.T) {
	s := newStore(t, Options{})
	upsert(t, s, doc("x", "first version walrus"), doc("y", "other"), doc("x", "second narwhal"), doc("x", "last beluga whale"))

	docs, err := s.Documents(context.Background(), []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	if docs["x"].Text != "last beluga whale" {
		t.Errorf("stored %q, want the last version", docs["x"].Text)
	}
	for _, q := range []string{"walrus", "narwhal"} {
		if got := hitIDs(mustSearch(t, s, store.KeywordQuery{Text: q, Limit: 10})); len(got) != 0 {
			t.Errorf("%q matches %v; earlier versions in the batch must not be indexed", q, got)
		}
	}
	assertStatsMatchFresh(t, s, doc("x", "last beluga whale"), doc("y", "other"))
}

func TestUpsertEmptyAndCancelled(t *testing.T) {
	s := newStore(t, Options{})
	if err := s.Upsert(context.Background(), nil); err != nil {
		t.Errorf("Upsert(nil) = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Upsert(ctx, entries(doc("a", "text"))); !errors.Is(err, context.Canceled) {
		t.Errorf("Upsert with cancelled context = %v, want context.Canceled", err)
	}
	if st, _ := s.Stats(context.Background()); st.Documents != 0 {
		t.Errorf("cancelled Upsert stored %d documents", st.Documents)
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	upsert(t, s, doc("a", "shared walrus"), doc("b", "shared narwhal"), doc("c", "shared beluga"))

	notFound, err := s.Delete(ctx, []string{"a", "missing", "c", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(notFound, []string{"missing"}) {
		t.Errorf("notFound = %v, want [missing]", notFound)
	}
	if got := hitIDs(mustSearch(t, s, store.KeywordQuery{Text: "shared walrus beluga", Limit: 10})); !slices.Equal(got, []string{"b"}) {
		t.Errorf("search after delete = %v, want [b]", got)
	}
	if docs, _ := s.Documents(ctx, []string{"a", "c"}); len(docs) != 0 {
		t.Errorf("deleted documents still loadable: %v", docs)
	}
	assertStatsMatchFresh(t, s, doc("b", "shared narwhal"))

	notFound, err = s.Delete(ctx, []string{"a"})
	if err != nil || !slices.Equal(notFound, []string{"a"}) {
		t.Errorf("second Delete(a) = %v, %v; want [a], nil", notFound, err)
	}
}

// TestStatsConsistent runs upserts, replaces and deletes, and checks that the
// statistics, and therefore the scores, equal those of an index built from
// the final documents alone.
func TestStatsConsistent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	final := map[string]cari.Document{}
	put := func(docs ...cari.Document) {
		upsert(t, s, docs...)
		for _, d := range docs {
			final[d.ID] = d
		}
	}
	del := func(ids ...string) {
		if _, err := s.Delete(ctx, ids); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			delete(final, id)
		}
	}
	put(doc("1", "whale song"), doc("2", "a much longer text about whales and their songs in the ocean"))
	put(doc("3", "short"), doc("1", "whale song replaced by a longer whale text"))
	del("2", "nope")
	put(doc("4", "ocean ocean ocean whale"), doc("2", "back again whale"), doc("4", "ocean whale"))
	del("3")
	put(cari.Document{ID: "5", Title: "Title words count", Text: "whale"})
	del("1")
	put(doc("1", "resurrected whale whale"))

	want := make([]cari.Document, 0, len(final))
	for _, d := range final {
		want = append(want, d)
	}
	assertStatsMatchFresh(t, s, want...)
}

// assertStatsMatchFresh compares s with a fresh store holding exactly want:
// document count, token count and the scores of a query on every document.
func assertStatsMatchFresh(t *testing.T, s *Store, want ...cari.Document) {
	t.Helper()
	ctx := context.Background()
	fresh := newStore(t, Options{})
	upsert(t, fresh, want...)
	got, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := fresh.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Documents != int64(len(want)) || got.Documents != exp.Documents || got.AvgDocTokens != exp.AvgDocTokens {
		t.Errorf("Stats = {Documents: %d, AvgDocTokens: %v}, fresh index of the same %d documents has {%d, %v}",
			got.Documents, got.AvgDocTokens, len(want), exp.Documents, exp.AvgDocTokens)
	}
	var words []string
	for _, d := range want {
		words = append(words, d.Title, d.Text)
	}
	q := store.KeywordQuery{Text: strings.Join(words, " "), Limit: 100}
	gotHits, wantHits := mustSearch(t, s, q), mustSearch(t, fresh, q)
	if !maps.Equal(hitScores(gotHits), hitScores(wantHits)) {
		t.Errorf("scores differ from a fresh index:\n got %v\nwant %v", gotHits, wantHits)
	}
}

// hitScores maps ID to score, so that tie order does not matter.
func hitScores(hits []store.Hit) map[string]float64 {
	m := make(map[string]float64, len(hits))
	for _, h := range hits {
		m[h.ID] = h.Score
	}
	return m
}

// TestConcurrentSearchAndWrite runs searches while one writer adds and
// deletes documents; run it with -race. Every search sees a consistent
// snapshot, so a hit's document is always loadable from the same store
// unless a later delete removed it. Each write waits for its fsyncs while
// four searchers keep both cores busy, so -short writes fewer batches.
func TestConcurrentSearchAndWrite(t *testing.T) {
	ctx := context.Background()
	batches := 20
	if testing.Short() {
		batches = 6
	}
	s := newStore(t, Options{})
	upsert(t, s, doc("seed", "whale"))
	done := make(chan struct{})
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				hits, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: "whale", Limit: 5,
					Filter: store.Filter{ExcludeText: []string{"never present"}}})
				if err == nil && len(hits) == 0 {
					err = errors.New("search saw no documents though seed is never deleted")
				}
				if err == nil {
					_, err = s.Documents(ctx, hitIDs(hits))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var final []cari.Document
	for b := 0; b < batches; b++ {
		var batch []cari.Document
		for i := 0; i < 5; i++ {
			batch = append(batch, doc(fmt.Sprintf("b%d-%d", b, i), strings.Repeat("whale ", i+1)))
		}
		upsert(t, s, batch...)
		if _, err := s.Delete(ctx, []string{batch[0].ID}); err != nil {
			t.Fatal(err)
		}
		final = append(final, batch[1:]...)
	}
	close(done)
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	assertStatsMatchFresh(t, s, append(final, doc("seed", "whale"))...)
}

func TestStatsDuringWrites(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	writerDone := make(chan error, 1)
	go func() {
		for b := 0; b < 40; b++ {
			if err := s.Upsert(ctx, entries(doc(fmt.Sprintf("d%d", b), "whale krill"))); err != nil {
				writerDone <- err
				return
			}
		}
		writerDone <- nil
	}()
	var statsErr error
	for statsErr == nil {
		select {
		case err := <-writerDone:
			if err != nil {
				t.Fatal(err)
			}
			return
		default:
		}
		_, statsErr = s.Stats(ctx)
	}
	// Let the writer finish before the store is closed under it.
	if err := <-writerDone; err != nil {
		t.Error(err)
	}
	t.Fatalf("Stats during writes: %v", statsErr)
}

// TestLastWrite: a write that changes the documents (an upsert, a delete)
// records when it committed, durably, with the statistics; an upsert of an
// unchanged document, or a delete of one not there, leaves it.
func TestLastWrite(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	lastWrite := func() time.Time {
		t.Helper()
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.LastWrite
	}
	if got := lastWrite(); !got.IsZero() {
		t.Errorf("LastWrite of an empty index = %v, want zero", got)
	}
	// within checks that a write between start and now recorded its time.
	within := func(what string, start time.Time) time.Time {
		t.Helper()
		got, end := lastWrite(), time.Now()
		if got.Before(start) || got.After(end) || got.Location() != time.UTC {
			t.Errorf("after %s: LastWrite %v, want a UTC time within [%v, %v]", what, got, start, end)
		}
		return got
	}
	start := time.Now()
	upsert(t, s, english("a", "zebra herds"))
	first := within("the first upsert", start)

	upsert(t, s, english("a", "zebra herds"))
	if _, err := s.Delete(ctx, []string{"nobody"}); err != nil {
		t.Fatal(err)
	}
	if got := lastWrite(); !got.Equal(first) {
		t.Errorf("an unchanged upsert and a delete of nothing moved LastWrite from %v to %v", first, got)
	}

	start = time.Now()
	upsert(t, s, english("a", "zebra herds migrate"))
	within("a changing upsert", start)
	start = time.Now()
	if _, err := s.Delete(ctx, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	deleted := within("a delete", start)

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := lastWrite(); !got.Equal(deleted) {
		t.Errorf("after reopening: LastWrite %v, want the delete's %v", got, deleted)
	}
}

// english is doc in English, so that a short test loads no language
// detector (a second or more on a loaded machine).
func english(id, text string) cari.Document {
	return cari.Document{ID: id, Text: text, Language: "en"}
}
