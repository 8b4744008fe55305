package store

import "testing"

func TestShortestCover(t *testing.T) {
	tests := []struct {
		matches []TermMatch
		want    int
	}{
		{[]TermMatch{{Positions: []int{5}}}, 1},
		{[]TermMatch{{Positions: []int{1, 20}}, {Positions: []int{18}}}, 3},
		{[]TermMatch{{Positions: []int{1}}, {Positions: []int{10}}, {Positions: []int{4, 30}}}, 10},
	}
	for _, tt := range tests {
		if got := shortestCover(occurrences(tt.matches), len(tt.matches)); got != tt.want {
			t.Errorf("shortestCover(%v) = %d, want %d", tt.matches, got, tt.want)
		}
	}
}

func TestMissingIDF(t *testing.T) {
	idfs := []float64{2, 4, 1}
	tests := []struct {
		matched []int
		want    float64
	}{
		{[]int{0, 1, 2}, 0},
		{[]int{1, 2}, 0.5},
		{[]int{0, 2}, 1},
		{nil, 1},
	}
	for _, tt := range tests {
		var ms []TermMatch
		for _, m := range tt.matched {
			ms = append(ms, TermMatch{Term: m, Positions: []int{1}})
		}
		if got := missingIDF(ms, idfs); got != tt.want {
			t.Errorf("missingIDF(matched %v) = %v, want %v", tt.matched, got, tt.want)
		}
	}
}

func TestWindowCoverage(t *testing.T) {
	idfs := []float64{1, 2, 1}
	ms := []TermMatch{
		{Term: 0, Positions: []int{0, 40}},
		{Term: 1, Positions: []int{10}},
		{Term: 2, Positions: []int{45}},
	}
	for w, want := range map[int]float64{1: 0.5, 5: 0.5, 11: 0.75, 30: 0.75, 36: 1} {
		if got := windowCoverage(occurrences(ms), idfs, 4, w); got != want {
			t.Errorf("windowCoverage(w=%d) = %v, want %v", w, got, want)
		}
	}
}
