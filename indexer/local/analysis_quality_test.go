package local

import (
	"testing"

	"github.com/cari-search/cari/indexer/analysis"
)

// TestIndonesianAnalysisPieces measures each piece of the Indonesian
// analysis on tydiqa-id (docs/EVALUATION.md records the figures): the same
// collection indexed with stop words and stemming turned on and off.
// Nothing is tuned on it; it reports, and checks that each piece helps.
func TestIndonesianAnalysisPieces(t *testing.T) {
	c := sharedCollection(t, "tydiqa-id", "")
	dict := analysis.DefaultIndonesianOptions()
	if dict.Dictionary == "" {
		t.Skip("no Indonesian root words installed (apt-get install hunspell-id)")
	}
	saved, savedName := indonesian, bodyAnalyzer
	t.Cleanup(func() { indonesian, bodyAnalyzer = saved, savedName })
	ndcg := map[string]float64{}
	for _, v := range []struct {
		name string
		o    analysis.IndonesianOptions
	}{
		{"none", analysis.IndonesianOptions{NoStopWords: true, NoFolding: true}},
		{"stop words", analysis.IndonesianOptions{NoFolding: true}},
		{"stemming", analysis.IndonesianOptions{NoStopWords: true, NoFolding: true, Dictionary: dict.Dictionary, SHA256: dict.SHA256}},
		{"stop+stem", analysis.IndonesianOptions{NoFolding: true, Dictionary: dict.Dictionary, SHA256: dict.SHA256}},
		{"folding", analysis.IndonesianOptions{NoStopWords: true}},
		{"all three", dict},
	} {
		indonesian = v.o
		bodyAnalyzer = "test: " + v.o.String()
		s := indexCollection(t, c)
		got := evaluate(t, c, cariSearch(t, s))
		ndcg[v.name] = got.NDCG10
		t.Logf("tydiqa-id, Indonesian analysis with %-10s nDCG@10 %.4f recall@100 %.4f mrr@10 %.4f", v.name+":", got.NDCG10, got.Recall100, got.MRR10)
	}
	if ndcg["stop words"] <= ndcg["none"] || ndcg["stemming"] <= ndcg["none"] || ndcg["stop+stem"] < max(ndcg["stop words"], ndcg["stemming"]) || ndcg["all three"] < ndcg["stop+stem"] {
		t.Errorf("a piece of the Indonesian analysis no longer helps: %v", ndcg)
	}
}
