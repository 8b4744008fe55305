// Package storetest is the contract every Cari store must keep: one suite of
// tests, run against the local store and the Qdrant store alike, so that the
// searcher gives the same answers on either.
package storetest

import (
	"context"
	"errors"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// Run runs the contract suite. open returns a new, empty store for vectors
// of Dim dimensions (model Model) that the subtest may write to; the suite
// closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"DocumentsRoundTrip", testDocuments},
		{"IDsForURLs", testIDsForURLs},
		{"Stats", testStats},
		{"Generations", testGenerations},
		{"KeywordBM25", testKeywordBM25},
		{"KeywordLimits", testKeywordLimits},
		{"KeywordTooManyTerms", testKeywordTooManyTerms},
		{"KeywordMultilingual", testKeywordMultilingual},
		{"Vector", testVector},
		{"Filters", testFilters},
		{"Replace", testReplace},
		{"Fingerprints", testFingerprints},
		{"LastInBatchWins", testLastInBatchWins},
		{"Delete", testDelete},
		{"MatchFeatures", testMatchFeatures},
		{"BadInput", testBadInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

func load(t *testing.T, s store.Store) {
	t.Helper()
	if err := s.Upsert(context.Background(), corpusEntries()); err != nil {
		t.Fatalf("upsert corpus: %v", err)
	}
}

func loadEnglish(t *testing.T, s store.Store) {
	t.Helper()
	if err := s.Upsert(context.Background(), englishEntries()); err != nil {
		t.Fatalf("upsert corpus: %v", err)
	}
}

func ids(hits []store.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func keyword(t *testing.T, s store.Store, text string, f store.Filter) []store.Hit {
	t.Helper()
	hits, err := s.SearchKeyword(context.Background(), store.KeywordQuery{Text: text, Filter: f, Limit: 10})
	if err != nil {
		t.Fatalf("keyword %q: %v", text, err)
	}
	return hits
}

func vector(t *testing.T, s store.Store, v []float32, f store.Filter) []store.Hit {
	t.Helper()
	hits, err := s.SearchVector(context.Background(), store.VectorQuery{Vector: v, Filter: f, Limit: 10})
	if err != nil {
		t.Fatalf("vector %v: %v", v, err)
	}
	return hits
}

func testDocuments(t *testing.T, s store.Store) {
	load(t, s)
	want := corpusEntries()
	got, err := s.Documents(context.Background(), []string{"a", "b", "c", "d", "e", "missing", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d documents, want %d (missing IDs must be absent)", len(got), len(want))
	}
	for _, e := range want {
		d, ok := got[e.Doc.ID]
		if !ok {
			t.Errorf("document %q not loaded", e.Doc.ID)
			continue
		}
		w := e.Doc
		w.Chunks = e.Chunks
		if !d.Published.Equal(w.Published) || !d.Crawled.Equal(w.Crawled) {
			t.Errorf("%s: published/crawled %v/%v, want %v/%v", w.ID, d.Published, d.Crawled, w.Published, w.Crawled)
		}
		d.Published, d.Crawled, w.Published, w.Crawled = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(d, w) {
			t.Errorf("%s: loaded\n%+v\nwant\n%+v", w.ID, d, w)
		}
	}
}

func testIDsForURLs(t *testing.T, s store.Store) {
	load(t, s)
	e := corpusEntries()
	got, err := s.IDsForURLs(context.Background(), []string{e[1].Doc.URL, "https://nowhere.example/x", e[3].Doc.URL})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{e[1].Doc.URL: "b", e[3].Doc.URL: "d"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("IDsForURLs = %v, want %v", got, want)
	}
}

func testStats(t *testing.T, s store.Store) {
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != 0 || st.Chunks != 0 || !st.LastWrite.IsZero() {
		t.Errorf("empty store: %d documents, %d chunks, last written %v", st.Documents, st.Chunks, st.LastWrite)
	}
	start := time.Now()
	loadEnglish(t, s)
	st, err = s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != int64(len(corpus)) || st.Chunks != corpusChunks() {
		t.Errorf("stats: %d documents, %d chunks; want %d, %d", st.Documents, st.Chunks, len(corpus), corpusChunks())
	}
	_, avgdl := reference(s)
	if math.Abs(st.AvgDocTokens-avgdl) > 1e-9 {
		t.Errorf("average document length %v, want %v", st.AvgDocTokens, avgdl)
	}
	if st.Generation == "" {
		t.Error("stats name no generation")
	}
	// A store that records when it was last written (the local one; Qdrant
	// does not) records the load's time.
	if !st.LastWrite.IsZero() && (st.LastWrite.Before(start) || st.LastWrite.After(time.Now())) {
		t.Errorf("LastWrite %v, want the time of the load, after %v", st.LastWrite, start)
	}
}

// testGenerations: a new store lists one generation, the one Stats names,
// serving, with its documents and passages and the analysis and model it is
// built with.
func testGenerations(t *testing.T, s store.Store) {
	ctx := context.Background()
	loadEnglish(t, s)
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gens, err := s.Generations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(gens) != 1 {
		t.Fatalf("Generations = %+v, want the serving one alone", gens)
	}
	g := gens[0]
	if g.Name != st.Generation || g.State != store.GenerationServing || g.Documents != st.Documents || g.Chunks != st.Chunks {
		t.Errorf("generation %+v, want %s serving with %d documents and %d passages", g, st.Generation, st.Documents, st.Chunks)
	}
	if g.Created.IsZero() || g.Analyzer == "" || g.Vectors != (store.VectorSpace{Model: Model, Dim: Dim}) {
		t.Errorf("generation %+v: want its creation time, analyzer and vector space %s/%d", g, Model, Dim)
	}
}

// reference computes each corpus document's analyzed body, and the average
// length, from the store's own analysis: the basis of the expected BM25
// scores.
func reference(s store.Store) (bodies map[string][]string, avgdl float64) {
	bodies = make(map[string][]string)
	var total int
	for _, e := range englishEntries() {
		terms := s.Terms(store.Body(e.Doc.Title, e.Doc.Text))
		bodies[e.Doc.ID] = terms
		total += len(terms)
	}
	return bodies, float64(total) / float64(len(bodies))
}

// bm25 scores the corpus for query by Lucene's BM25 (k1 1.2, b 0.75),
// computed here from scratch.
func bm25(s store.Store, query string) map[string]float64 {
	bodies, avgdl := reference(s)
	n := float64(len(bodies))
	out := make(map[string]float64)
	for _, q := range s.Terms(query) {
		addBM25(out, bodies, q, bm25IDF(n, docFreq(bodies, q)), avgdl, 1.2, 0.75)
	}
	return out
}

// docFreq is the number of bodies holding term.
func docFreq(bodies map[string][]string, term string) float64 {
	df := 0.0
	for _, terms := range bodies {
		if slices.Contains(terms, term) {
			df++
		}
	}
	return df
}

// bm25IDF is Lucene's BM25 IDF of a term in df of n documents.
func bm25IDF(n, df float64) float64 { return math.Log(1 + (n-df+0.5)/(df+0.5)) }

// addBM25 adds to out, for each of bodies holding term, the term's BM25
// score (parameters k1 and b) with IDF idf, among bodies of average length
// avgdl.
func addBM25(out map[string]float64, bodies map[string][]string, term string, idf, avgdl, k1, b float64) {
	for id, terms := range bodies {
		tf := 0.0
		for _, t := range terms {
			if t == term {
				tf++
			}
		}
		if tf == 0 {
			continue
		}
		dl := float64(len(terms))
		out[id] += idf * tf * (k1 + 1) / (tf + k1*(1-b+b*dl/avgdl))
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-4*math.Max(1, math.Abs(b)) }

func testKeywordBM25(t *testing.T, s store.Store) {
	loadEnglish(t, s)
	for _, tc := range []struct {
		query string
		order []string
	}{
		// a says zebra three times (title twice) and herds twice; d once.
		{"zebra herds", []string{"a", "d"}},
		// meadow is in three documents; the shortest ranks first.
		{"meadow", nil},
		{"quartz copper", nil},
		{"zebra zebra lantern", nil},
	} {
		hits := keyword(t, s, tc.query, store.Filter{})
		want := bm25(s, tc.query)
		if len(hits) != len(want) {
			t.Errorf("%q: hits %v, want the %d documents %v", tc.query, ids(hits), len(want), want)
			continue
		}
		for i, h := range hits {
			if !near(h.Score, want[h.ID]) {
				t.Errorf("%q: %s scored %v, BM25 gives %v", tc.query, h.ID, h.Score, want[h.ID])
			}
			if i > 0 && h.Score > hits[i-1].Score {
				t.Errorf("%q: hits not best first: %v", tc.query, hits)
			}
		}
		if tc.order != nil && !slices.Equal(ids(hits), tc.order) {
			t.Errorf("%q: order %v, want %v", tc.query, ids(hits), tc.order)
		}
	}
}

func testKeywordLimits(t *testing.T, s store.Store) {
	loadEnglish(t, s)
	ctx := context.Background()
	hits, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: "meadow zebra", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	all := keyword(t, s, "meadow zebra", store.Filter{})
	if len(all) < 3 || !slices.Equal(ids(hits), ids(all)[:2]) {
		t.Errorf("limit 2 gave %v, the first two of %v", ids(hits), ids(all))
	}
	for _, q := range []store.KeywordQuery{{Text: "meadow", Limit: 0}, {Text: "the of and", Limit: 10}, {Text: "unheardofword", Limit: 10}} {
		hits, err := s.SearchKeyword(ctx, q)
		if err != nil || len(hits) != 0 {
			t.Errorf("%+v: %v, %v; want no hits and no error", q, hits, err)
		}
	}
}

// testKeywordTooManyTerms: a query with more than store.MaxQueryTerms terms
// in a field it searches is searched by its first MaxQueryTerms terms there,
// as embedders read a long text's first tokens: a term within the bound
// finds its documents, a term after it is not read. The neutral field (the
// German document's), searched too, keeps stop words and is cut alike.
func testKeywordTooManyTerms(t *testing.T, s store.Store) {
	load(t, s)
	ctx := context.Background()
	text := "zebra " + strings.Repeat("protein binding ", store.MaxQueryTerms/2) + "quartz " + strings.Repeat("the ", 100)
	hits, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: text, Limit: 10})
	if err != nil {
		t.Fatalf("%d terms: %v, want the query searched by its first %d", store.MaxQueryTerms+102, err, store.MaxQueryTerms)
	}
	got := ids(hits)
	if !slices.Contains(got, "a") || slices.Contains(got, "b") {
		t.Errorf("hits %v: want a (zebra, the first term) and not b (quartz, after the first %d terms)", got, store.MaxQueryTerms)
	}
}

func testVector(t *testing.T, s store.Store) {
	load(t, s)
	for _, tc := range []struct {
		v     []float32
		order []string
		top   float64
	}{
		// a's first passage is the query; e's only passage is near it.
		{[]float32{1, 0, 0, 0}, []string{"a", "e", "d"}, 1},
		// a's second passage matches; the length of the query is irrelevant.
		{[]float32{0, 3, 0, 0}, []string{"a", "d", "e"}, 1},
		// d's second passage (cosine 0.7) beats c's only one (0.6).
		{[]float32{0, 0, 0.8, 0.6}, []string{"b", "d", "c"}, 1},
	} {
		hits := vector(t, s, tc.v, store.Filter{})
		if len(hits) < len(tc.order) || !slices.Equal(ids(hits)[:len(tc.order)], tc.order) {
			t.Errorf("%v: %v, want %v first", tc.v, ids(hits), tc.order)
			continue
		}
		if !near(hits[0].Score, tc.top) {
			t.Errorf("%v: best score %v, want cosine %v", tc.v, hits[0].Score, tc.top)
		}
		if slices.ContainsFunc(hits, func(h store.Hit) bool { return h.Score <= 0 && slices.Contains(tc.order, h.ID) }) {
			t.Errorf("%v: non-positive score among the expected: %v", tc.v, hits)
		}
	}
	// d's best passage for this query is the second (cosine 1 against 0.7).
	hits := vector(t, s, []float32{1, 1, 1, 1}, store.Filter{})
	if len(hits) == 0 || hits[0].ID != "d" || !near(hits[0].Score, 1) {
		t.Errorf("uniform query: %v, want d first with cosine 1", hits)
	}
}

func testFilters(t *testing.T, s store.Store) {
	load(t, s)
	// Every document contains one of these words, and has a positive
	// cosine with the uniform vector.
	const everything = "zebra quartz falcon copper lantern"
	uniform := []float32{1, 1, 1, 1}
	for _, tc := range []struct {
		name string
		f    store.Filter
		want []string
	}{
		{"include domain and its subdomains", store.Filter{IncludeDomains: []string{"example.com"}}, []string{"b", "d", "e"}},
		{"include subdomain", store.Filter{IncludeDomains: []string{"Clocks.Example.com"}}, []string{"b", "d"}},
		{"include several domains", store.Filter{IncludeDomains: []string{"example.org", "example.net"}}, []string{"a", "c"}},
		{"exclude domain", store.Filter{ExcludeDomains: []string{"clocks.example.com"}}, []string{"a", "c", "e"}},
		{"published range inclusive", store.Filter{PublishedFrom: day("2020-03-01"), PublishedTo: day("2021-06-15")}, []string{"a", "b"}},
		{"published from; undated never matches", store.Filter{PublishedFrom: day("2021-01-01")}, []string{"b", "e"}},
		{"published to", store.Filter{PublishedTo: day("2019-12-31")}, []string{"d"}},
		{"crawled to", store.Filter{CrawledTo: day("2024-01-01")}, []string{"a", "d"}},
		{"crawled from", store.Filter{CrawledFrom: day("2024-03-01")}, []string{"c", "e"}},
		{"include phrase", store.Filter{IncludeText: []string{"zebra herds"}}, []string{"a"}},
		{"include phrase is stemmed", store.Filter{IncludeText: []string{"Zebra Stripe"}}, []string{"d"}},
		{"include phrase order matters", store.Filter{IncludeText: []string{"herds zebra"}}, nil},
		{"include phrase across a stop word", store.Filter{IncludeText: []string{"cross the meadow"}}, []string{"a"}},
		{"include phrases all", store.Filter{IncludeText: []string{"meadow", "falcon"}}, []string{"c"}},
		{"exclude phrase", store.Filter{ExcludeText: []string{"meadow"}}, []string{"b", "d"}},
		{"exclude phrases any", store.Filter{ExcludeText: []string{"meadow", "copper wiring"}}, []string{"b"}},
		{"language and its regions", store.Filter{Languages: []string{"en"}}, []string{"a", "b", "d", "e"}},
		{"language region", store.Filter{Languages: []string{"en-gb"}}, []string{"b"}},
		{"languages", store.Filter{Languages: []string{"de", "FR"}}, []string{"c"}},
		{"combined", store.Filter{IncludeDomains: []string{"example.com"}, Languages: []string{"en"}, ExcludeText: []string{"meadow"}}, []string{"b", "d"}},
		{"category", store.Filter{Categories: []string{"news"}}, []string{"d"}},
		{"categories, in any case", store.Filter{Categories: []string{"research paper", "Company"}}, []string{"a", "b"}},
		{"category and domain", store.Filter{Categories: []string{"news", "company"}, IncludeDomains: []string{"docs.clocks.example.com"}}, []string{"b"}},
		{"category none has", store.Filter{Categories: []string{"tweet"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(keyword(t, s, everything, tc.f)); !slices.Equal(sorted(got), tc.want) {
				t.Errorf("keyword: %v, want %v", sorted(got), tc.want)
			}
			if got := ids(vector(t, s, uniform, tc.f)); !slices.Equal(sorted(got), tc.want) {
				t.Errorf("vector: %v, want %v", sorted(got), tc.want)
			}
		})
	}
}

func testReplace(t *testing.T, s store.Store) {
	load(t, s)
	ctx := context.Background()
	a := doc{id: "a", title: "Violin lessons", domain: "music.example.org", lang: "it", crawled: "2025-01-01",
		passages: []string{"The violin needs patience."}, vectors: [][]float32{{0, 0.6, 0, 0.8}}}
	if err := s.Upsert(ctx, []store.Entry{a.entry()}); err != nil {
		t.Fatal(err)
	}
	if got := ids(keyword(t, s, "zebra herds", store.Filter{})); !slices.Equal(got, []string{"d"}) {
		t.Errorf("old text still found: %v", got)
	}
	if got := ids(keyword(t, s, "violin", store.Filter{})); !slices.Equal(got, []string{"a"}) {
		t.Errorf("new text: %v", got)
	}
	if got := ids(keyword(t, s, "violin", store.Filter{Languages: []string{"en"}})); len(got) != 0 {
		t.Errorf("old language still filters: %v", got)
	}
	if hits := vector(t, s, []float32{0, 0.6, 0, 0.8}, store.Filter{}); len(hits) == 0 || hits[0].ID != "a" || !near(hits[0].Score, 1) {
		t.Errorf("new vector: %v", hits)
	}
	if hits := vector(t, s, []float32{1, 0, 0, 0}, store.Filter{}); len(hits) > 0 && hits[0].ID == "a" {
		t.Errorf("old vector still found: %v", hits)
	}
	docs, err := s.Documents(ctx, []string{"a"})
	if err != nil || docs["a"].Title != "Violin lessons" || len(docs["a"].Chunks) != 1 {
		t.Errorf("replaced document: %+v, %v", docs["a"], err)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Documents != int64(len(corpus)) || st.Chunks != corpusChunks()-1 {
		t.Errorf("stats after replace: %+v, %v", st, err)
	}
}

// testFingerprints checks that a store reports the fingerprint of what it
// holds, so the indexer can leave unchanged documents out, and that a
// changed document still replaces the stored one.
func testFingerprints(t *testing.T, s store.Store) {
	load(t, s)
	ctx := context.Background()
	entries := corpusEntries()
	got, err := s.Fingerprints(ctx, []string{"a", "b", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": store.Fingerprint(entries[0]), "b": store.Fingerprint(entries[1])}
	if !maps.Equal(got, want) {
		t.Errorf("fingerprints: %v, want %v", got, want)
	}
	// The same entries again change nothing a reader sees.
	if err := s.Upsert(ctx, entries); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Stats(ctx); err != nil || st.Documents != int64(len(corpus)) || st.Chunks != corpusChunks() {
		t.Errorf("stats after upserting the same documents: %+v, %v", st, err)
	}
	changed := entries[0]
	changed.Doc.Author = "Someone Else"
	if err := s.Upsert(ctx, []store.Entry{changed}); err != nil {
		t.Fatal(err)
	}
	docs, err := s.Documents(ctx, []string{"a"})
	if err != nil || docs["a"].Author != "Someone Else" {
		t.Errorf("a changed author did not replace the document: %+v, %v", docs["a"], err)
	}
	got, err = s.Fingerprints(ctx, []string{"a"})
	if err != nil || got["a"] != store.Fingerprint(changed) {
		t.Errorf("fingerprint after the change: %v, %v; want %s", got, err, store.Fingerprint(changed))
	}
}

func testLastInBatchWins(t *testing.T, s store.Store) {
	first := corpus[2]
	second := first
	second.title, second.passages = "Falcon nests", []string{"Falcons nest on cliffs."}
	if err := s.Upsert(context.Background(), []store.Entry{first.entry(), second.entry()}); err != nil {
		t.Fatal(err)
	}
	docs, err := s.Documents(context.Background(), []string{"c"})
	if err != nil || docs["c"].Title != "Falcon nests" {
		t.Errorf("got %+v, %v; want the later document", docs["c"], err)
	}
	if got := keyword(t, s, "speed", store.Filter{}); len(got) != 0 {
		t.Errorf("earlier document's text is searchable: %v", got)
	}
	st, err := s.Stats(context.Background())
	if err != nil || st.Documents != 1 {
		t.Errorf("stats: %+v, %v; want one document", st, err)
	}
}

func testDelete(t *testing.T, s store.Store) {
	load(t, s)
	ctx := context.Background()
	notFound, err := s.Delete(ctx, []string{"c", "missing", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(notFound, []string{"missing"}) {
		t.Errorf("not found: %v, want [missing]", notFound)
	}
	if got := keyword(t, s, "falcon", store.Filter{}); len(got) != 0 {
		t.Errorf("deleted document found by keyword: %v", got)
	}
	if got := ids(vector(t, s, []float32{0, 0, 0, 1}, store.Filter{})); slices.Contains(got, "c") {
		t.Errorf("deleted document found by vector: %v", got)
	}
	docs, err := s.Documents(ctx, []string{"c", "b"})
	if err != nil || len(docs) != 1 {
		t.Errorf("documents after delete: %v, %v", docs, err)
	}
	urls, err := s.IDsForURLs(ctx, []string{corpus[2].entry().Doc.URL})
	if err != nil || len(urls) != 0 {
		t.Errorf("deleted URL still maps: %v, %v", urls, err)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Documents != 4 || st.Chunks != corpusChunks()-1 {
		t.Errorf("stats after delete: %+v, %v", st, err)
	}
	if nf, err := s.Delete(ctx, []string{"c"}); err != nil || !slices.Equal(nf, []string{"c"}) {
		t.Errorf("second delete: %v, %v", nf, err)
	}
}

func testMatchFeatures(t *testing.T, s store.Store) {
	loadEnglish(t, s)
	const q = "quartz clocks"
	got := matchFeatures(t, s, q, []string{"b", "a", "missing"})
	if _, ok := got["missing"]; ok || len(got) != 2 {
		t.Errorf("features for %v; want b and a only", got)
	}
	b := got["b"]
	want := bm25(s, q)["b"]
	if !near(b.BM25, want) {
		t.Errorf("b: BM25 %v, want %v", b.BM25, want)
	}
	bodies, _ := reference(s)
	if b.Coverage != 1 || b.TitleCoverage != 1 || b.Proximity != 1 || b.FirstMatch != 0 ||
		b.OrderedPairs != 1 || b.UnorderedPairs != 1 || b.Length != float64(len(bodies["b"])) {
		t.Errorf("b: %+v; want full coverage in the title, adjacent, from the first token, length %d", b, len(bodies["b"]))
	}
	if b.TitleBM25 <= 0 || got["a"].TitleBM25 != 0 {
		t.Errorf("title BM25 of b %v, of a %v; want b's title scored, a's not", b.TitleBM25, got["a"].TitleBM25)
	}
	if b.MissingIDF != 0 || b.WindowCoverage != [3]float64{1, 1, 1} {
		t.Errorf("b: missing IDF %v, window coverage %v; want 0 and full in every window", b.MissingIDF, b.WindowCoverage)
	}
	if a := got["a"]; a.BM25 != 0 || a.Coverage != 0 || a.FirstMatch != 1 || a.Proximity != 0 || a.MissingIDF != 1 || a.WindowCoverage != [3]float64{} {
		t.Errorf("a matches nothing: %+v", a)
	}
	// Partial coverage is weighted by IDF: "meadow" (three documents) is
	// worth less than "falcon" (one).
	got = matchFeatures(t, s, "falcon meadow", []string{"a"})
	n := 5.0
	idf := func(df float64) float64 { return math.Log(1 + (n-df+0.5)/(df+0.5)) }
	if wantCov := idf(3) / (idf(1) + idf(3)); !near(got["a"].Coverage, wantCov) || got["a"].TitleCoverage != 0 {
		t.Errorf("a for falcon meadow: %+v, want coverage %v", got["a"], wantCov)
	}
}

// matchFeatures returns the match features MatchDocuments gives ids for
// query, and checks that the documents it loads with them are those
// Documents loads.
func matchFeatures(t *testing.T, s store.Store, query string, ids []string) map[string]store.MatchFeatures {
	t.Helper()
	ctx := context.Background()
	matched, err := s.MatchDocuments(ctx, query, ids)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := s.Documents(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]store.MatchFeatures, len(matched))
	for id, m := range matched {
		if !reflect.DeepEqual(m.Document, docs[id]) {
			t.Errorf("MatchDocuments loaded %s as %+v, Documents as %+v", id, m.Document, docs[id])
		}
		out[id] = m.Match
	}
	return out
}

func testBadInput(t *testing.T, s store.Store) {
	ctx := context.Background()
	wrongDim := corpus[0]
	wrongDim.vectors = [][]float32{{1, 0, 0}, {0, 1, 0}}
	tooFew := corpus[1]
	tooFew.vectors = tooFew.vectors[:1]
	for name, e := range map[string]store.Entry{"wrong dimension": wrongDim.entry(), "fewer vectors than passages": tooFew.entry()} {
		if err := s.Upsert(ctx, []store.Entry{corpus[4].entry(), e}); err == nil {
			t.Errorf("%s: upsert accepted", name)
		}
		// A refused batch writes nothing.
		docs, err := s.Documents(ctx, []string{"e", e.Doc.ID})
		if err != nil || len(docs) != 0 {
			t.Errorf("%s: refused batch left %v, %v", name, docs, err)
		}
	}
	load(t, s)
	if _, err := s.SearchVector(ctx, store.VectorQuery{Vector: []float32{1, 0}, Limit: 3}); err == nil {
		t.Error("vector query of the wrong dimension accepted")
	}
	for _, f := range []store.Filter{{IncludeText: []string{"the of"}}, {ExcludeText: []string{"meadow", "..."}}} {
		_, err := s.SearchKeyword(ctx, store.KeywordQuery{Text: "zebra", Filter: f, Limit: 3})
		var fe *cari.FieldError
		if !errors.As(err, &fe) || (fe.Field != "filters.include_text[0]" && fe.Field != "filters.exclude_text[1]") {
			t.Errorf("phrase without content words %+v: %v, want a field error naming it", f, err)
		}
		_, err = s.SearchVector(ctx, store.VectorQuery{Vector: []float32{1, 0, 0, 0}, Filter: f, Limit: 3})
		if !errors.As(err, &fe) {
			t.Errorf("vector, phrase without content words %+v: %v, want a field error", f, err)
		}
	}
}
