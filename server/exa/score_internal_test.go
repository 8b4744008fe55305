package exa

import (
	"math"
	"testing"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// Each kind of score gets its own map, so that the same raw number means
// different things by what produced it, and every map stays in [0, 1] and
// in order.
func TestExaScore(t *testing.T) {
	static := &cariv1.EmbeddingModel{Provider: "static"}
	other := &cariv1.EmbeddingModel{Provider: "openai"}
	hybrid := cariv1.SearchType_SEARCH_TYPE_HYBRID
	for _, tc := range []struct {
		name string
		resp *cariv1.SearchResponse
		want scoreMap
		raw  []float32 // ascending
	}{
		{"keyword", &cariv1.SearchResponse{ResolvedSearchType: cariv1.SearchType_SEARCH_TYPE_KEYWORD}, keywordScores, []float32{0, 10, 40, 80, 400}},
		{"neural, static model", &cariv1.SearchResponse{ResolvedSearchType: cariv1.SearchType_SEARCH_TYPE_NEURAL, EmbeddingModel: static}, staticNeuralScores, []float32{-1, 0, 0.7, 1}},
		{"hybrid, score fusion", &cariv1.SearchResponse{ResolvedSearchType: hybrid, EmbeddingModel: static}, scoreFusedScores, []float32{0, 0.5, 1}},
		{"hybrid, RRF", &cariv1.SearchResponse{ResolvedSearchType: hybrid, EmbeddingModel: other}, rrfScores, []float32{0, 0.01, 0.0328}},
		{"re-ranked", &cariv1.SearchResponse{ResolvedSearchType: hybrid, EmbeddingModel: other, Reranked: true}, rerankedScores, []float32{-5, 0, 3, 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := -1.0
			for _, s := range tc.raw {
				got := exaScore(tc.resp, s)
				if got != tc.want.apply(s) || got < 0 || got > 1 || got < prev {
					t.Errorf("exaScore(%v) = %v: want %v, in [0, 1], not below %v", s, got, tc.want.apply(s), prev)
				}
				prev = got
			}
		})
	}
	// Another model's cosine has no fitted map: in range and in order.
	resp := &cariv1.SearchResponse{ResolvedSearchType: cariv1.SearchType_SEARCH_TYPE_NEURAL, EmbeddingModel: other}
	if lo, mid, hi := exaScore(resp, -1), exaScore(resp, 0.2), exaScore(resp, 1); lo != 0 || math.Abs(mid-0.6) > 1e-6 || hi != 1 {
		t.Errorf("uncalibrated cosines -1, 0.2, 1 give %v, %v, %v; want 0, 0.6, 1", lo, mid, hi)
	}
}
