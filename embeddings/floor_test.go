package embeddings

import (
	"math"
	"testing"
)

func TestSimilarityFloor(t *testing.T) {
	glove := ModelInfo{Provider: ProviderStatic, Name: "glove-6b-100d"}
	qwen := ModelInfo{Provider: ProviderOpenAI, Name: "Qwen/Qwen3-Embedding-0.6B"}
	calibrated, ok := CalibratedFloor(glove)
	if !ok || calibrated <= 0 {
		t.Fatalf("glove-6b-100d has floor %v, %v; want a calibrated positive one", calibrated, ok)
	}
	for _, tc := range []struct {
		name  string
		set   float64
		model ModelInfo
		want  float64
	}{
		{"calibrated default", 0, glove, calibrated},
		{"set", 0.7, glove, 0.7},
		{"off", -1, glove, math.Inf(-1)},
		{"uncalibrated: only positive similarity counts", 0, qwen, 0},
		{"uncalibrated, set", 0.45, qwen, 0.45},
	} {
		if got := similarityFloor(Config{SimilarityFloor: tc.set}.withDefaults(), tc.model); got != tc.want {
			t.Errorf("%s: floor %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, bad := range []float64{1, 2, math.NaN()} {
		if err := (Config{SimilarityFloor: bad}).withDefaults().validate(); err == nil {
			t.Errorf("similarity floor %v accepted", bad)
		}
	}
}
