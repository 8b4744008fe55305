package local

import (
	"testing"

	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/store"
)

// indonesianVariant is one choice of the Indonesian analysis pieces.
type indonesianVariant struct {
	name string
	o    analysis.IndonesianOptions
}

// indonesianVariants are the analyses compared on tydiqa-id and on its
// development set: each piece alone, stop words with stemming (Cari's
// default, dict), and all three. dict holds the stemmer's root words.
func indonesianVariants(dict analysis.IndonesianOptions) []indonesianVariant {
	stem := func(o analysis.IndonesianOptions) analysis.IndonesianOptions {
		o.Dictionary, o.SHA256 = dict.Dictionary, dict.SHA256
		return o
	}
	return []indonesianVariant{
		{"none", analysis.IndonesianOptions{NoStopWords: true}},
		{"stop words", analysis.IndonesianOptions{}},
		{"stemming", stem(analysis.IndonesianOptions{NoStopWords: true})},
		{"stop+stem", stem(analysis.IndonesianOptions{})},
		{"folding", analysis.IndonesianOptions{NoStopWords: true, Folding: true}},
		{"all three", stem(analysis.IndonesianOptions{Folding: true})},
	}
}

// indonesianDictionary returns Cari's default Indonesian options, skipping
// the test when the stemmer's root words are not installed.
func indonesianDictionary(t *testing.T) analysis.IndonesianOptions {
	t.Helper()
	dict := analysis.DefaultIndonesianOptions()
	if dict.Dictionary == "" {
		t.Skip("no Indonesian root words installed (apt-get install hunspell-id)")
	}
	return dict
}

// evaluateIndonesian indexes c with the Indonesian field analysed as o and
// scores c's queries against it, the Indonesian field with BM25 parameters
// bm (zero: DefaultIndonesianBM25).
func evaluateIndonesian(t *testing.T, c collection, o analysis.IndonesianOptions, bm store.BM25) evaluation.Summary {
	t.Helper()
	saved, savedName := indonesian, bodyAnalyzer
	defer func() { indonesian, bodyAnalyzer = saved, savedName }()
	indonesian = o
	bodyAnalyzer = "test: " + o.String()
	s := indexCollection(t, c)
	if bm != (store.BM25{}) {
		dir := s.dir
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		var err error
		if s, err = Open(dir, Options{IndonesianBM25: bm}); err != nil {
			t.Fatal(err)
		}
	}
	defer s.Close()
	return evaluate(t, c, cariSearch(t, s))
}

// TestIndonesianAnalysisPieces measures each piece of the Indonesian
// analysis on tydiqa-id (docs/EVALUATION.md records the figures): the same
// collection indexed with each piece turned on and off. The pieces are
// decided on the development set tydiqa-id/train
// (TestIndonesianAnalysisOnDev), which keeps all three; this test reports
// every variant on the test set and checks that stop words and stemming
// still help there. Folding is reported, not checked: the test set does not
// decide it.
func TestIndonesianAnalysisPieces(t *testing.T) {
	c := sharedCollection(t, "tydiqa-id", "")
	dict := indonesianDictionary(t)
	ndcg := map[string]float64{}
	for _, v := range indonesianVariants(dict) {
		got := evaluateIndonesian(t, c, v.o, store.BM25{})
		ndcg[v.name] = got.NDCG10
		t.Logf("tydiqa-id, Indonesian analysis with %-10s nDCG@10 %.4f recall@100 %.4f mrr@10 %.4f", v.name+":", got.NDCG10, got.Recall100, got.MRR10)
	}
	if ndcg["stop words"] <= ndcg["none"] || ndcg["stemming"] <= ndcg["none"] || ndcg["stop+stem"] < max(ndcg["stop words"], ndcg["stemming"]) {
		t.Errorf("a piece of the Indonesian analysis no longer helps: %v", ndcg)
	}
}
