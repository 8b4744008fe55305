package local

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// smallImpactBlocks gives every segment impacts, in blocks of size
// postings, for the test's duration: the tests' collections are small.
func smallImpactBlocks(t *testing.T, size int) {
	t.Helper()
	oldSize, oldMin := impactBlockSize, minImpactDocs
	impactBlockSize, minImpactDocs = size, 1
	t.Cleanup(func() { impactBlockSize, minImpactDocs = oldSize, oldMin })
}

// sweepImpacts computes the impacts of the serving generation's live
// segments now, as the background sweep does once writes pause, and
// returns the names of the segments that have them.
func sweepImpacts(t *testing.T, s *Store) []string {
	t.Helper()
	x := s.serving.impacts
	if err := x.sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	return sortedMapKeys(x.segs)
}

// liveSegments returns the serving generation's persisted segments.
func liveSegments(t *testing.T, s *Store) []segment.PersistedSegment {
	t.Helper()
	r, release, err := s.snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var out []segment.PersistedSegment
	for _, ss := range r.(*scorch.IndexSnapshot).Segments() {
		if ps, ok := ss.Segment().(segment.PersistedSegment); ok {
			out = append(out, ps)
		}
	}
	return out
}

// forceMerge merges the serving generation's segments into one.
func forceMerge(t *testing.T, s *Store) {
	t.Helper()
	adv, err := s.serving.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	if err := adv.(*scorch.Scorch).ForceMerge(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

// randomQueries returns n keyword queries of 1 to 8 words drawn by draw,
// at several depths, with and without domain filters.
func randomQueries(n int, seed uint64, draw func() string) []store.KeywordQuery {
	rng := rand.New(rand.NewPCG(seed, 5))
	filters := []store.Filter{{}, {IncludeDomains: []string{"a.example"}}, {ExcludeDomains: []string{"a.example"}}}
	var out []store.KeywordQuery
	for i := range n {
		words := make([]string, 1+rng.IntN(8))
		for j := range words {
			words[j] = draw()
		}
		out = append(out, store.KeywordQuery{Text: strings.Join(words, " "), Limit: []int{1, 3, 10, 50}[i%4], Filter: filters[i%3]})
	}
	return out
}

// TestBlockMaxMatchesExhaustive compares block-max search with scoring
// every posting on a Zipf corpus whose segments all have impacts in blocks
// of a few postings, so that queries cross many block boundaries: on the
// segments as written, after deletions and replacements (which the
// segments' impacts still count), and after a merge into one segment with
// impacts of its own.
func TestBlockMaxMatchesExhaustive(t *testing.T) {
	for _, size := range []int{1, 3, 16} {
		t.Run(fmt.Sprint("block ", size), func(t *testing.T) {
			smallImpactBlocks(t, size)
			n, nq := 900, 60
			if testing.Short() {
				n, nq = 360, 25
			}
			docs, draw := zipfCorpus(n, uint64(size))
			s := newStore(t, Options{})
			for i := 0; i < n; i += n / 3 {
				upsert(t, s, docs[i:min(i+n/3, n)]...)
			}
			queries := randomQueries(nq, uint64(size), draw)
			check := func(stage string) {
				t.Helper()
				if len(sweepImpacts(t, s)) == 0 {
					t.Fatalf("%s: no segment has impacts", stage)
				}
				for _, q := range queries {
					if got, want := mustSearch(t, s, q), exhaustiveBM25(t, s, q); !slices.Equal(got, want) {
						t.Fatalf("%s: query %q limit %d filter %+v:\n got %v\nwant %v", stage, q.Text, q.Limit, q.Filter, got, want)
					}
				}
			}
			check("as written")

			var gone []string
			for i := 0; i < n; i += 7 {
				gone = append(gone, docs[i].ID)
			}
			if _, err := s.Delete(context.Background(), gone); err != nil {
				t.Fatal(err)
			}
			// Replacements: the strongest documents of one query, rewritten
			// weak, so that blocks bound documents no longer there.
			var again []cari.Document
			for _, h := range mustSearch(t, s, queries[2]) {
				again = append(again, doc(h.ID, "w300q w301q"))
			}
			upsert(t, s, again...)
			check("after deletions and replacements")

			forceMerge(t, s)
			check("merged")
		})
	}
}

// TestBlockMaxPrunesMore checks that the impacts are used: the same queries
// score fewer documents in full with them than with BM25's ceiling alone,
// and the results are the same.
func TestBlockMaxPrunesMore(t *testing.T) {
	smallImpactBlocks(t, 16)
	n := 1200
	if testing.Short() {
		n = 600
	}
	docs, draw := zipfCorpus(n, 4)
	s := newStore(t, Options{})
	upsert(t, s, docs[:n/2]...)
	upsert(t, s, docs[n/2:]...)
	forceMerge(t, s) // so that no merge in the background drops the impacts swept
	sweepImpacts(t, s)
	ctx := context.Background()
	r, g, release, err := s.snapshotGen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var ceiling, blockMax int
	for _, q := range randomQueries(40, 9, draw) {
		q.Limit, q.Filter = 10, store.Filter{}
		plan, err := s.planKeyword(ctx, r, q)
		if err != nil || plan == nil {
			t.Fatalf("plan %q: %v, %v", q.Text, plan, err)
		}
		loose, n1, err := s.topBM25(ctx, r, plan, q.Limit)
		if err != nil {
			t.Fatal(err)
		}
		plan.impacts = g.impacts
		tight, n2, err := s.topBM25(ctx, r, plan, q.Limit)
		if err != nil {
			t.Fatal(err)
		}
		sortScored(loose)
		sortScored(tight)
		if !slices.Equal(loose, tight) {
			t.Fatalf("query %q: with impacts %v, without %v", q.Text, tight, loose)
		}
		ceiling += n1
		blockMax += n2
	}
	t.Logf("documents scored in full: %d with BM25's ceiling, %d with block maxima", ceiling, blockMax)
	if blockMax*10 > ceiling*8 {
		t.Errorf("block maxima scored %d documents in full, the ceiling %d: want at least a fifth fewer", blockMax, ceiling)
	}
}

func sortScored(s []scored) {
	slices.SortFunc(s, func(a, b scored) int {
		if a.better(b) {
			return -1
		}
		if b.better(a) {
			return 1
		}
		return 0
	})
}

// TestImpactSidecars checks the sidecars' life: written beside each
// segment, read back rather than recomputed at the next open, never
// believed when damaged or written for another file of the same name, and
// removed once bleve removes their segment.
func TestImpactSidecars(t *testing.T) {
	smallImpactBlocks(t, 8)
	docs, draw := zipfCorpus(400, 11)
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	upsert(t, s, docs[:200]...)
	upsert(t, s, docs[200:]...)
	forceMerge(t, s)
	genDir := s.serving.dir
	segs := liveSegments(t, s)
	if names := sweepImpacts(t, s); len(segs) != 1 || len(names) != 1 {
		t.Fatalf("impacts of %v, live segments %d", names, len(segs))
	}
	seg, side := segs[0].Path(), sidecarPath(genDir, segs[0].Path())
	queries := randomQueries(30, 3, draw)
	want := map[string][]store.Hit{}
	for _, q := range queries {
		want[q.Text] = mustSearch(t, s, q)
	}
	written, err := os.Stat(side)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(side)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeImpacts(b, []byte("another segment")); err != errStaleImpacts {
		t.Errorf("the sidecar read for another segment file: %v, want errStaleImpacts", err)
	}

	reopen := func(stage string) *Store {
		t.Helper()
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		sweepImpacts(t, s)
		if _, err := loadImpacts(genDir, seg); err != nil {
			t.Errorf("%s: sidecar of %s: %v", stage, seg, err)
		}
		for _, q := range queries {
			if got := mustSearch(t, s, q); !slices.Equal(got, want[q.Text]) {
				t.Fatalf("%s: query %q:\n got %v\nwant %v", stage, q.Text, got, want[q.Text])
			}
		}
		return s
	}
	s = reopen("reopened")
	if again, err := os.Stat(side); err != nil || !again.ModTime().Equal(written.ModTime()) {
		t.Errorf("a whole sidecar was written again at open (%v)", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	flipByte(t, side, 0.5)
	if _, err := loadImpacts(genDir, seg); err == nil {
		t.Fatal("a damaged sidecar was believed")
	}
	s = reopen("sidecar damaged")

	upsert(t, s, doc("late", "w1q w2q"))
	forceMerge(t, s)
	merged := liveSegments(t, s)
	if len(merged) != 1 || merged[0].Path() == seg {
		t.Fatalf("merged into %d segments", len(merged))
	}
	// bleve removes the merged-away files in its own time (not before a
	// reader lets go of them); a sweep removes the sidecars of those gone.
	// Remove them here as bleve would.
	live := sidecarPath(genDir, merged[0].Path())
	files, _ := filepath.Glob(filepath.Join(genDir, impactsDir, "*"))
	for _, f := range files {
		if f != live {
			zap := filepath.Join(filepath.Dir(seg), strings.TrimSuffix(filepath.Base(f), ".imp")+".zap")
			if err := os.Remove(zap); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
	}
	sweepImpacts(t, s)
	if files, _ = filepath.Glob(filepath.Join(genDir, impactsDir, "*")); !slices.Equal(files, []string{live}) {
		t.Errorf("after merging into %s, sidecars %v", merged[0].Path(), files)
	}
}
