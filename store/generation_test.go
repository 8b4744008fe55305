package store

import (
	"slices"
	"testing"
)

func TestGenerationIncompatible(t *testing.T) {
	base := Generation{Name: "a", Analyzer: "cari_body_v2", Vectors: VectorSpace{Model: "static:glove", Dim: 100}}
	for _, tc := range []struct {
		name  string
		other Generation
		want  []string
	}{
		{"same build, other name and size", Generation{Name: "b", Analyzer: base.Analyzer, Vectors: base.Vectors, SizeBytes: 9}, nil},
		{"analyzer", Generation{Analyzer: "cari_body_v1", Vectors: base.Vectors}, []string{"analyzer"}},
		{"model", Generation{Analyzer: base.Analyzer, Vectors: VectorSpace{Model: "onnx:e5", Dim: 384}}, []string{"embedding model"}},
		{"keyword only", Generation{Analyzer: "x"}, []string{"analyzer", "embedding model"}},
	} {
		if got := base.Incompatible(tc.other); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
