package exa

import (
	"math"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// scoreMap is Platt's sigmoid from one kind of Cari score to the
// probability that the result is relevant: 1 / (1 + exp(-(slope*score +
// intercept))). Monotone, so it keeps every ranking; in [0, 1], as Exa's
// spec says a score is; and fitted per kind of score, so that a threshold
// means about the same whichever retrieval ran.
type scoreMap struct{ slope, intercept float64 }

func (m scoreMap) apply(score float32) float64 {
	return 1 / (1 + math.Exp(-(m.slope*float64(score) + m.intercept)))
}

// The maps were fitted with `cari eval --calibrate` on scifact/train (809
// queries, their top 10 results: 8,090 pairs, about 740 relevant) over an
// index made with the embedded defaults (GloVe static embeddings, the
// built-in learned re-ranker); docs/EXA.md gives the commands and the
// figures they reach on the SciFact test set.
var (
	// keywordScores are BM25 scores.
	keywordScores = scoreMap{slope: 0.104898, intercept: -4.9017}
	// staticNeuralScores are cosine similarities of the static GloVe
	// model.
	staticNeuralScores = scoreMap{slope: 8.53466, intercept: -9.53906}
	// scoreFusedScores are hybrid scores of score fusion (alpha 0.05),
	// the static model's default fusion.
	scoreFusedScores = scoreMap{slope: 8.32587, intercept: -8.14144}
	// rrfScores are hybrid scores of reciprocal rank fusion (k 60), every
	// other embedder's default fusion; they depend on ranks only, so the
	// fit made with GloVe carries over to other models better than a
	// cosine's would.
	rrfScores = scoreMap{slope: 2392.27, intercept: -39.1584}
	// rerankedScores are the built-in learned re-ranker's scores.
	rerankedScores = scoreMap{slope: 0.838866, intercept: -5.64375}
)

// exaScore is a result's score as Exa's clients read it, in [0, 1]: the
// calibrated probability that the result is relevant, from the score that
// ordered it (see the maps above). The neural scores of a model other than
// the static one have no fitted map: a cosine similarity c becomes (1+c)/2,
// in range and in order but not calibrated.
func exaScore(resp *cariv1.SearchResponse, score float32) float64 {
	static := resp.GetEmbeddingModel().GetProvider() == "static"
	switch {
	case resp.GetReranked():
		return rerankedScores.apply(score)
	case resp.GetResolvedSearchType() == cariv1.SearchType_SEARCH_TYPE_KEYWORD:
		return keywordScores.apply(score)
	case resp.GetResolvedSearchType() == cariv1.SearchType_SEARCH_TYPE_HYBRID && static:
		return scoreFusedScores.apply(score)
	case resp.GetResolvedSearchType() == cariv1.SearchType_SEARCH_TYPE_HYBRID:
		return rrfScores.apply(score)
	case static:
		return staticNeuralScores.apply(score)
	}
	return min(max((1+float64(score))/2, 0), 1)
}

// exaDebug is a result's raw scores, under "debug" when the request asks
// for them (a Cari extension, "debug": true): each stage's rank and score,
// among them the one that ordered the result and that exaScore mapped
// (rerankScore when re-ranked, else fusedScore for hybrid retrieval,
// keywordScore or vectorScore for one side alone).
type exaDebug struct {
	KeywordRank  *int32   `json:"keywordRank,omitempty"`
	KeywordScore *float32 `json:"keywordScore,omitempty"`
	VectorRank   *int32   `json:"vectorRank,omitempty"`
	VectorScore  *float32 `json:"vectorScore,omitempty"`
	FusedScore   *float32 `json:"fusedScore,omitempty"`
	RerankScore  *float32 `json:"rerankScore,omitempty"`
}

// exaDebugOf is nil when the result carries no debug.
func exaDebugOf(r *cariv1.Result) *exaDebug {
	d := r.GetDebug()
	if d == nil {
		return nil
	}
	return &exaDebug{KeywordRank: d.KeywordRank, KeywordScore: d.KeywordScore,
		VectorRank: d.VectorRank, VectorScore: d.VectorScore, FusedScore: d.FusedScore, RerankScore: d.RerankScore}
}
