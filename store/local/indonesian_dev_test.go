package local

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/store"
)

// The Indonesian development set is tydiqa-id/train: 5,369 real TyDi QA
// questions over the test set's corpus, each with its paragraph, none of
// them and none of their paragraphs shared with the test set (see
// ../shared/datasets/README.md). The Indonesian analysis and BM25
// parameters are chosen on it, by rules written into docs/EVALUATION.md
// before its first run, and the test set is read once for the choice. (The
// inverse-cloze set issue 13 built from the distractor paragraphs before
// this set existed is described there too; its builder is in git history.)
const devQuestions = 5369

// indonesianDevSet returns tydiqa-id/train, skipping the test without it.
func indonesianDevSet(t *testing.T) collection {
	t.Helper()
	dev := sharedCollection(t, "tydiqa-id", "train")
	if _, err := os.Stat(dev.queries); err != nil {
		t.Skip("needs ../shared/datasets/tydiqa-id/train")
	}
	return dev
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

// devRuns evaluates tydiqa-id/train with the Indonesian field analysed as
// o, at the global BM25 parameters, with or without the query-side
// question words, each configuration once.
type devRuns struct {
	t    *testing.T
	dev  collection
	runs map[string]evaluation.Summary
}

func (d *devRuns) run(name string, o analysis.IndonesianOptions, questions bool) evaluation.Summary {
	t := d.t
	t.Helper()
	key := fmt.Sprintf("%s; question words dropped: %t", o, questions)
	if s, ok := d.runs[key]; ok {
		return s
	}
	saved := store.IndonesianQuestionWords
	defer func() { store.IndonesianQuestionWords = saved }()
	if !questions {
		store.IndonesianQuestionWords = nil
	}
	s := evaluateIndonesian(t, d.dev, o, store.DefaultBM25)
	d.runs[key] = s
	t.Logf("tydiqa-id/train, %-40s nDCG@10 %.4f recall@100 %.4f mrr@10 %.4f", name+":", s.NDCG10, s.Recall100, s.MRR10)
	if s.Queries != devQuestions || s.NDCG10 < 0.5 || s.NDCG10 > 0.98 || s.Recall100 < s.NDCG10 || s.MRR10 > s.NDCG10 {
		t.Errorf("%s: implausible figures on the development set: %+v", name, s)
	}
	return s
}

// compare logs the paired nDCG@10 difference a - b and reports whether a
// beats b by more than one standard error, the margin every rule asks.
func (d *devRuns) compare(what string, a, b evaluation.Summary) bool {
	d.t.Helper()
	p := pairedDifference(d.t, a, b)
	d.t.Logf("%-45s nDCG@10 %+.4f ± %.4f (paired SE), better on %d questions, worse on %d", what+":", p.mean, p.se, p.wins, p.losses)
	if p.wins+p.losses == 0 {
		d.t.Errorf("%s: both rank every question alike; the choice is not switched", what)
	}
	return p.mean > p.se
}

// TestIndonesianAnalysisOnDev chooses the Indonesian analysis on
// tydiqa-id/train by rules 1 to 3 of docs/EVALUATION.md, fixed before the
// first run, and checks that Cari ships what they choose:
//
//  1. from stop words, full Nazief-Adriani stemming and ASCII folding, at
//     the global BM25 parameters, a piece is kept only if taking it out
//     lowers dev nDCG@10 by more than one standard error of the paired
//     per-question difference;
//  2. if stemming is kept, inflectional-only stemming replaces the full
//     stemmer only if it beats it by more than one SE;
//  3. the query-side question words (store.IndonesianQuestionWords) are
//     dropped only if that beats keeping them by more than one SE.
func TestIndonesianAnalysisOnDev(t *testing.T) {
	dev := indonesianDevSet(t)
	dict := indonesianDictionary(t)
	d := &devRuns{t: t, dev: dev, runs: map[string]evaluation.Summary{}}

	all := dict
	all.Folding = true
	none := analysis.IndonesianOptions{NoStopWords: true}
	d.run("no piece", none, false)
	full := d.run("all three pieces", all, false)
	chosen := all
	for _, c := range []struct {
		piece string
		drop  func(*analysis.IndonesianOptions)
	}{
		{"stop words", func(o *analysis.IndonesianOptions) { o.NoStopWords = true }},
		{"stemming", func(o *analysis.IndonesianOptions) { o.Dictionary, o.SHA256 = "", "" }},
		{"folding", func(o *analysis.IndonesianOptions) { o.Folding = false }},
	} {
		without := all
		c.drop(&without)
		if !d.compare("rule 1: all three - without "+c.piece, full, d.run("all three without "+c.piece, without, false)) {
			c.drop(&chosen)
		}
	}
	t.Logf("rule 1 keeps: %s", chosen)

	if chosen.Dictionary != "" {
		light := chosen
		light.InflectionsOnly = true
		if d.compare("rule 2: inflections only - Nazief-Adriani", d.run("inflections only", light, false), d.run("rule 1's pieces", chosen, false)) {
			chosen = light
		}
	}
	questions := d.compare("rule 3: question words dropped - kept", d.run("question words dropped", chosen, true), d.run("question words kept", chosen, false))
	t.Logf("the rules choose: %s; question words dropped from queries: %t", chosen, questions)

	if indonesian.String() != chosen.String() {
		t.Errorf("the rules choose the Indonesian analysis %q on the development set, but Cari ships %q", chosen, indonesian)
	}
	if ships := len(store.IndonesianQuestionWords) > 0; ships != questions {
		t.Errorf("the rules choose to drop question words from queries: %t; Cari does: %t", questions, ships)
	}
}

// devBM25Grid is the grid of BM25 parameters tried for the Indonesian body
// field on the development set, fixed before its first run: k1 from 0.6 to
// 2.0 and b from 0.3 to 1.0, around Cari's global (1.2, 0.75).
var devBM25Grid = struct{ k1, b []float64 }{
	k1: []float64{0.6, 0.9, 1.2, 1.5, 2.0},
	b:  []float64{0.3, 0.5, 0.75, 0.9, 1.0},
}

// TestIndonesianBM25OnDev chooses the BM25 parameters of the Indonesian
// body field on tydiqa-id/train with Cari's Indonesian analysis, by rule 4
// of docs/EVALUATION.md, fixed before the first run: the grid's best pair
// by dev nDCG@10 replaces the global (1.2, 0.75) for the Indonesian field
// only if its paired per-question nDCG@10 difference over (1.2, 0.75) is
// larger than one standard error; otherwise the Indonesian field keeps the
// global parameters. The best of 25 pairs clears one SE more easily than
// one planned comparison would; the rule accepts that, as before.
//
// (Issue 13 chose k1 1.5, b 1 by the same rule on an inverse-cloze set,
// whose queries are sentences taken out of the relevant paragraph; the
// real questions reopen it.)
func TestIndonesianBM25OnDev(t *testing.T) {
	dev := indonesianDevSet(t)
	indonesianDictionary(t)
	s := indexCollection(t, dev)
	dir := s.dir
	r, release, err := s.snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st, err := snapshotStats(r)
	release()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("corpus by body field: %+v", st.Fields)
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
			got[p] = evaluate(t, dev, cariSearch(t, s))
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			t.Logf("tydiqa-id/train, BM25 k1 %.2f b %.2f: nDCG@10 %.4f recall@100 %.4f mrr@10 %.4f", k1, b, got[p].NDCG10, got[p].Recall100, got[p].MRR10)
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
	t.Logf("best on dev: k1 %.2f b %.2f, nDCG@10 %.4f against %.4f at (%.2f, %.2f): paired difference %+.4f ± %.4f, better on %d questions, worse on %d; adopted: %t",
		best.K1, best.B, got[best].NDCG10, got[base].NDCG10, base.K1, base.B, d.mean, d.se, d.wins, d.losses, adopt)
	chosen := base
	if adopt {
		chosen = best
	}
	if ships := store.DefaultIndonesianBM25; ships != chosen {
		t.Errorf("the rule chooses k1 %.2f b %.2f for the Indonesian field on the development set, but Cari ships %+v", chosen.K1, chosen.B, ships)
	}
}
