package local

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/store"
)

// The Indonesian development set: an inverse cloze task (Lee et al., 2019)
// over tydiqa-id's distractor paragraphs, which no test question is judged
// against. A sampled paragraph gives up one of its sentences as a query and
// stays in the corpus, without that sentence, as the query's one relevant
// document. Nothing of the test questions or of their gold paragraphs is
// used, so the analysis pieces can be chosen on it and then reported once
// on the test set.
const (
	devQueries    = 800
	devSeed       = 13 // issue 13; fixed before any run
	devMinWords   = 6
	devMaxWords   = 30
	tydiDocs      = 4650
	tydiGoldDocs  = 769
	tydiDistracts = tydiDocs - tydiGoldDocs
)

// devSet is a BEIR collection written under a temporary directory.
type devSet struct {
	collection
	nDocs, nQueries int
}

// buildIndonesianDevSet writes the development set of tydiqa-id (see
// above), of at most n queries, to a temporary directory.
func buildIndonesianDevSet(t *testing.T, test collection, n int) devSet {
	t.Helper()
	qrels, err := evaluation.LoadQrels(test.qrels, false)
	if err != nil {
		t.Fatal(err)
	}
	judged := map[string]bool{}
	for _, q := range qrels.QueryIDs() {
		for id := range qrels.Gains(q) {
			judged[id] = true
		}
	}
	var docs []cari.Document
	for _, d := range loadCorpusT(t, test.corpus) {
		if !judged[d.ID] {
			docs = append(docs, d)
		}
	}
	slices.SortFunc(docs, func(a, b cari.Document) int { return strings.Compare(a.ID, b.ID) })

	chunker, err := analysis.NewChunker(analysis.ChunkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(devSeed, devSeed))
	order := rng.Perm(len(docs))
	type query struct{ id, text, doc string }
	var queries []query
	for _, i := range order {
		if len(queries) == n {
			break
		}
		d := &docs[i]
		spans := chunker.Sentences(d.Text)
		var eligible []int
		for j, s := range spans[min(1, len(spans)):] {
			sentence := d.Text[s.Start:s.End]
			if n := len(strings.Fields(sentence)); n >= devMinWords && n <= devMaxWords && !elsewhere(docs, i, sentence) {
				eligible = append(eligible, j+1)
			}
		}
		if len(eligible) == 0 {
			continue
		}
		pick := eligible[rng.IntN(len(eligible))]
		rest := make([]string, 0, len(spans)-1)
		for j, s := range spans {
			if j != pick {
				rest = append(rest, d.Text[s.Start:s.End])
			}
		}
		queries = append(queries, query{fmt.Sprintf("ict-%04d", len(queries)), d.Text[spans[pick].Start:spans[pick].End], d.ID})
		d.Text = strings.Join(rest, " ")
	}

	dir := t.TempDir()
	dev := devSet{collection{filepath.Join(dir, "corpus.jsonl"), filepath.Join(dir, "queries.jsonl"), filepath.Join(dir, "qrels.tsv")}, len(docs), len(queries)}
	writeLines(t, dev.corpus, len(docs), func(i int) string {
		return jsonLine(t, map[string]string{"_id": docs[i].ID, "title": docs[i].Title, "text": docs[i].Text})
	})
	writeLines(t, dev.queries, len(queries), func(i int) string {
		return jsonLine(t, map[string]string{"_id": queries[i].id, "text": queries[i].text})
	})
	writeLines(t, dev.qrels, len(queries)+1, func(i int) string {
		if i == 0 {
			return "query-id\tcorpus-id\tscore"
		}
		return queries[i-1].id + "\t" + queries[i-1].doc + "\t1"
	})
	return dev
}

// elsewhere reports whether sentence occurs in any document of docs but the
// i-th: such a query would have more than one right answer.
func elsewhere(docs []cari.Document, i int, sentence string) bool {
	for j := range docs {
		if j != i && strings.Contains(docs[j].Text, sentence) {
			return true
		}
	}
	return false
}

func jsonLine(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeLines writes n lines, the i-th line(i), to path.
func writeLines(t *testing.T, path string, n int, line func(i int) string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range n {
		w.WriteString(line(i))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// paired compares two runs query by query on nDCG@10: the mean difference
// a - b, its standard error (the sample standard deviation of the
// differences over the square root of their number), and how many queries
// a ranks better and worse.
type paired struct {
	mean, se     float64
	wins, losses int
}

func pairedDifference(t *testing.T, a, b evaluation.Summary) paired {
	t.Helper()
	other := map[string]float64{}
	for _, q := range b.PerQuery {
		other[q.QueryID] = q.NDCG10
	}
	if len(a.PerQuery) != len(other) || len(a.PerQuery) < 2 {
		t.Fatalf("paired difference over %d and %d queries", len(a.PerQuery), len(other))
	}
	var p paired
	d := make([]float64, len(a.PerQuery))
	for i, q := range a.PerQuery {
		v, ok := other[q.QueryID]
		if !ok {
			t.Fatalf("query %s evaluated in one run only", q.QueryID)
		}
		d[i] = q.NDCG10 - v
		p.mean += d[i]
		switch {
		case d[i] > 0:
			p.wins++
		case d[i] < 0:
			p.losses++
		}
	}
	n := float64(len(d))
	p.mean /= n
	var ss float64
	for _, v := range d {
		ss += (v - p.mean) * (v - p.mean)
	}
	p.se = math.Sqrt(ss/(n-1)) / math.Sqrt(n)
	return p
}

// devSetVariants are indonesianVariants with the two combinations that
// leave one piece out of the full analysis and are not among them.
func devSetVariants(dict analysis.IndonesianOptions) []indonesianVariant {
	all := dict
	all.Folding = true
	noStop, noStem := all, all
	noStop.NoStopWords = true
	noStem.Dictionary, noStem.SHA256 = "", ""
	return append(indonesianVariants(dict), indonesianVariant{"stem+fold", noStop}, indonesianVariant{"stop+fold", noStem})
}

// TestIndonesianAnalysisOnDev chooses the pieces of the Indonesian analysis
// on the development set; docs/EVALUATION.md records the figures.
//
// The pieces were chosen, and are measured here, with the Indonesian field
// at the global BM25 parameters (1.2, 0.75): its own parameters were
// chosen afterwards, with these pieces (TestIndonesianBM25OnDev).
//
// The rule, fixed before the first run: start from all three pieces; a
// piece is dropped when taking it out raises dev nDCG@10 by more than one
// standard error of the paired per-query difference, and kept otherwise
// (helping, or not worse beyond the noise).
//
// The test checks the development set's size and that its figures are
// plausible, that each piece changes some ranking, that the rule keeps
// stop words and stemming, that Cari ships what the rule chooses, and that
// no combination beats it by more than one standard error. Its first run
// dropped ASCII folding (3 queries of 800 worse, 1 better), and Cari
// follows: folding is off by default (analysis.IndonesianOptions.Folding).
func TestIndonesianAnalysisOnDev(t *testing.T) {
	test := sharedCollection(t, "tydiqa-id", "")
	dict := indonesianDictionary(t)
	dev := buildIndonesianDevSet(t, test, devQueries)
	if dev.nDocs != tydiDistracts || dev.nQueries != devQueries {
		t.Fatalf("development set: %d documents, %d queries; want the %d distractors and %d queries", dev.nDocs, dev.nQueries, tydiDistracts, devQueries)
	}

	got := map[string]evaluation.Summary{}
	for _, v := range devSetVariants(dict) {
		s := evaluateIndonesian(t, dev.collection, v.o, store.DefaultBM25)
		got[v.name] = s
		t.Logf("Indonesian dev set (ICT), analysis with %-10s nDCG@10 %.4f recall@100 %.4f mrr@10 %.4f", v.name+":", s.NDCG10, s.Recall100, s.MRR10)
		if s.Queries != devQueries || s.NDCG10 < 0.3 || s.NDCG10 > 0.95 || s.Recall100 < s.NDCG10 || s.MRR10 > s.NDCG10 {
			t.Errorf("%s: implausible figures on the development set: %+v", v.name, s)
		}
	}

	kept := map[string]bool{}
	for _, c := range []struct{ piece, in, out string }{
		{"stop words", "all three", "stem+fold"},
		{"stemming", "all three", "stop+fold"},
		{"folding", "all three", "stop+stem"},
		{"stop alone", "stop words", "none"},
		{"stem alone", "stemming", "none"},
		{"fold alone", "folding", "none"},
	} {
		p := pairedDifference(t, got[c.in], got[c.out])
		t.Logf("%-11s %-10s - %-10s nDCG@10 %+.4f ± %.4f (paired SE), better on %d queries, worse on %d", c.piece+":", c.in, c.out, p.mean, p.se, p.wins, p.losses)
		if p.wins+p.losses == 0 {
			t.Errorf("%s: %s and %s rank every query alike; the piece is not switched", c.piece, c.in, c.out)
		}
		if c.in == "all three" {
			kept[c.piece] = p.mean >= -p.se
		}
	}
	if !kept["stop words"] || !kept["stemming"] {
		t.Fatalf("on the development set the rule drops a piece Cari relies on: kept %v", kept)
	}
	chosen := "stop+stem"
	if kept["folding"] {
		chosen = "all three"
	}
	ships := "stop+stem"
	if indonesian.Folding {
		ships = "all three"
	}
	t.Logf("the rule chooses %s (folding kept: %t); Cari ships %s", chosen, kept["folding"], ships)
	if ships != chosen {
		t.Errorf("the rule chooses %s on the development set, but Cari ships %s", chosen, ships)
	}
	for name, s := range got {
		if p := pairedDifference(t, got[chosen], s); p.mean < -p.se {
			t.Errorf("on the development set %s beats the chosen %s by more than the noise: nDCG@10 %.4f against %.4f (paired difference %.4f ± %.4f)", name, chosen, s.NDCG10, got[chosen].NDCG10, -p.mean, p.se)
		}
	}
}

// devBM25Grid is the grid of BM25 parameters tried for the Indonesian body
// field on the development set, fixed before its first run: k1 from 0.6 to
// 2.0 and b from 0.3 to 1.0, around Cari's (1.2, 0.75).
var devBM25Grid = struct{ k1, b []float64 }{
	k1: []float64{0.6, 0.9, 1.2, 1.5, 2.0},
	b:  []float64{0.3, 0.5, 0.75, 0.9, 1.0},
}

// TestIndonesianBM25OnDev chooses the BM25 parameters of the Indonesian
// body field on the development set, with Cari's analysis (stop words and
// stemming); docs/EVALUATION.md records the figures.
//
// The rule, fixed before the first run: the grid's best pair by dev
// nDCG@10 replaces the global (1.2, 0.75) for the Indonesian field only if
// its paired per-query nDCG@10 difference over (1.2, 0.75) is larger than
// one standard error of that difference; otherwise the Indonesian field
// keeps the global parameters. The test set is then read once, for the
// configuration the rule chooses.
//
// Caveats written with the rule: ICT queries are sentences of 6 to 30
// words taken from the relevant paragraph, while tydiqa-id's queries are
// short questions; k1 (how fast a repeated term saturates) and b (length
// normalisation) may prefer other values for those. And the best of 25
// pairs is compared with the default, so a one-SE margin is easier to
// clear than for one planned comparison.
//
// The grid sets the Indonesian field's parameters (Options.IndonesianBM25);
// the test logs how many of the development corpus's paragraphs language
// detection sent to another field, which keeps the global parameters. (Its
// first run, before the Indonesian field had parameters of its own, varied
// every field's; 8 paragraphs of 3,881 were elsewhere, and the verdict was
// the same.)
func TestIndonesianBM25OnDev(t *testing.T) {
	test := sharedCollection(t, "tydiqa-id", "")
	indonesianDictionary(t)
	dev := buildIndonesianDevSet(t, test, devQueries)
	if dev.nDocs != tydiDistracts || dev.nQueries != devQueries {
		t.Fatalf("development set: %d documents, %d queries; want the %d distractors and %d queries", dev.nDocs, dev.nQueries, tydiDistracts, devQueries)
	}
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	docs := loadCorpusT(t, dev.corpus)
	for i := 0; i < len(docs); i += 512 {
		if err := s.Upsert(context.Background(), entries(docs[i:min(i+512, len(docs))]...)); err != nil {
			t.Fatal(err)
		}
	}
	r, release, err := s.snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st, err := snapshotStats(r)
	release()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("development corpus by body field: %+v", st.Fields)
	// ICT shortens the relevant paragraph by the sentence it gives up, and
	// b rewards short documents: how much shorter they are than the rest
	// says how far the development set can favour a large b.
	relevant := map[string]bool{}
	qrels, err := evaluation.LoadQrels(dev.qrels, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qrels.QueryIDs() {
		for id := range qrels.Gains(q) {
			relevant[id] = true
		}
	}
	var relLen, relN float64
	for _, d := range docs {
		if relevant[d.ID] {
			relLen += float64(len(s.TermsIn(store.Body(d.Title, d.Text), "id")))
			relN++
		}
	}
	_, avgdl := st.field(store.FieldBodyID)
	t.Logf("relevant paragraphs average %.1f analysed terms, the Indonesian field %.1f", relLen/relN, avgdl)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	base := store.DefaultBM25
	got := map[store.BM25]evaluation.Summary{}
	for _, k1 := range devBM25Grid.k1 {
		for _, b := range devBM25Grid.b {
			p := store.BM25{K1: k1, B: b}
			s, err := Open(dir, Options{IndonesianBM25: p})
			if err != nil {
				t.Fatal(err)
			}
			got[p] = evaluate(t, dev.collection, cariSearch(t, s))
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			t.Logf("Indonesian dev set (ICT), BM25 k1 %.2f b %.2f: nDCG@10 %.4f recall@100 %.4f mrr@10 %.4f", k1, b, got[p].NDCG10, got[p].Recall100, got[p].MRR10)
		}
	}
	if _, ok := got[base]; !ok {
		t.Fatalf("the grid does not hold Cari's parameters %+v", base)
	}
	best := base // ties keep the earlier pair in grid order, or the default
	for _, k1 := range devBM25Grid.k1 {
		for _, b := range devBM25Grid.b {
			if p := (store.BM25{K1: k1, B: b}); got[p].NDCG10 > got[best].NDCG10 {
				best = p
			}
		}
	}
	d := pairedDifference(t, got[best], got[base])
	adopt := best != base && d.mean > d.se
	t.Logf("best on dev: k1 %.2f b %.2f, nDCG@10 %.4f against %.4f at (%.2f, %.2f): paired difference %+.4f ± %.4f, better on %d queries, worse on %d; adopted: %t",
		best.K1, best.B, got[best].NDCG10, got[base].NDCG10, base.K1, base.B, d.mean, d.se, d.wins, d.losses, adopt)
	chosen := base
	if adopt {
		chosen = best
	}
	if ships := store.DefaultIndonesianBM25; ships != chosen {
		t.Errorf("the rule chooses k1 %.2f b %.2f for the Indonesian field on the development set, but Cari ships %+v", chosen.K1, chosen.B, ships)
	}
}
