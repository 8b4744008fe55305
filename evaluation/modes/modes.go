// Package modes holds the retrieval modes cari eval and evaluation/bench
// compare (keyword, vector, hybrid, rerank, served) and runs a searcher as the
// system under evaluation. It is apart from package evaluation, which
// the searcher's own tests use to score rankings.
package modes

import (
	"context"
	"fmt"

	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/searcher"
)

// Parse maps a retrieval mode, as cari eval and bench name them, to the
// searcher's query type and whether its results are re-ranked: keyword,
// vector (a neural search; "neural" also names it), hybrid, rerank
// (hybrid, then the re-ranker), and served (what a search that sets
// neither type nor re-ranking gets from a server: auto, then the
// re-ranker).
func Parse(mode string) (typ searcher.Type, rerank bool, err error) {
	switch mode {
	case "keyword":
		return searcher.TypeKeyword, false, nil
	case "vector", "neural":
		return searcher.TypeNeural, false, nil
	case "hybrid":
		return searcher.TypeHybrid, false, nil
	case "rerank":
		return searcher.TypeHybrid, true, nil
	case "served":
		return searcher.TypeAuto, true, nil
	}
	return 0, false, fmt.Errorf("unknown mode %q: want keyword, vector, hybrid, rerank or served", mode)
}

// Query is the query of mode (Parse) for a run of cari eval; without
// vectors (no embedding model) the rerank mode re-ranks what the keyword
// side retrieves, the candidates the store can give.
func Query(mode string, vectors bool) (searcher.Query, error) {
	typ, rerank, err := Parse(mode)
	if rerank && typ == searcher.TypeHybrid && !vectors {
		typ = searcher.TypeKeyword
	}
	return searcher.Query{Type: typ, Rerank: &rerank}, err
}

// Search is the evaluation.SearchFunc of s: each query text searched with q's
// settings for its top evaluation.RecallCutoff documents.
func Search(s *searcher.Searcher, q searcher.Query) evaluation.SearchFunc {
	return func(ctx context.Context, text string) (evaluation.Ranking, error) {
		q := q
		q.Text, q.NumResults = text, evaluation.RecallCutoff
		resp, err := s.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		var r evaluation.Ranking
		for _, res := range resp.Results {
			r.Add(res.Document.ID, res.Score)
		}
		return r, nil
	}
}
