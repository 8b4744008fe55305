package evaluation

import (
	"math"
	"testing"
)

// l2 is log2 for hand-computed expectations; the tolerance absorbs its last-bit error.
var l2 = math.Log2

func TestNDCG(t *testing.T) {
	twelve := map[string]int{}
	var twelveRanked []string
	for _, d := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"} {
		twelve[d] = 1
		twelveRanked = append(twelveRanked, d)
	}
	tests := []struct {
		name   string
		ranked []string
		gains  map[string]int
		k      int
		want   float64
	}{
		{"perfect binary", []string{"a", "b"}, map[string]int{"a": 1, "b": 1}, 10, 1},
		{"graded swapped", []string{"b", "a"}, map[string]int{"a": 3, "b": 1}, 10,
			(1 + 3/l2(3)) / (3 + 1/l2(3))},
		{"graded in ideal order", []string{"a", "b", "x"}, map[string]int{"a": 4, "b": 2}, 10, 1},
		{"unretrieved judged doc counts in ideal", []string{"a"}, map[string]int{"a": 1, "b": 2}, 10,
			1 / (2 + 1/l2(3))},
		{"zero and negative gains ignored", []string{"a", "b", "c"}, map[string]int{"a": -1, "b": 0, "c": 2}, 10,
			(2 / l2(4)) / 2},
		{"unjudged docs gain nothing", []string{"x", "y", "a"}, map[string]int{"a": 1}, 10, 1 / l2(4)},
		{"relevant below cutoff", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "a"},
			map[string]int{"a": 3}, 10, 0},
		{"ideal truncated at k", twelveRanked, twelve, 10, 1},
		{"k of 1", []string{"b", "a"}, map[string]int{"a": 2, "b": 1}, 1, 0.5},
		{"empty ranking", nil, map[string]int{"a": 1}, 10, 0},
		{"no positive gain", []string{"a"}, map[string]int{"a": 0}, 10, 0},
		{"no judgments", []string{"a"}, nil, 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NDCG(tt.ranked, tt.gains, tt.k); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("NDCG = %.17g, want %.17g", got, tt.want)
			}
		})
	}
}

func TestRecall(t *testing.T) {
	tests := []struct {
		name   string
		ranked []string
		gains  map[string]int
		k      int
		want   float64
	}{
		{"half found", []string{"a", "x", "b"}, map[string]int{"a": 1, "b": 1, "c": 1, "d": 1}, 100, 0.5},
		{"graded gains count once", []string{"a", "b"}, map[string]int{"a": 4, "b": 1, "c": 2}, 100, 2.0 / 3},
		{"gain 0 and -1 not relevant", []string{"a"}, map[string]int{"a": 1, "b": 0, "c": -1}, 100, 1},
		{"cutoff", []string{"x", "y", "a", "b"}, map[string]int{"a": 1, "b": 1}, 3, 0.5},
		{"duplicates counted once", []string{"a", "a", "a"}, map[string]int{"a": 1, "b": 1}, 100, 0.5},
		{"empty ranking", nil, map[string]int{"a": 1}, 100, 0},
		{"no relevant", []string{"a"}, map[string]int{"a": 0}, 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Recall(tt.ranked, tt.gains, tt.k); got != tt.want {
				t.Errorf("Recall = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReciprocalRank(t *testing.T) {
	tests := []struct {
		name   string
		ranked []string
		gains  map[string]int
		k      int
		want   float64
	}{
		{"first", []string{"a", "b"}, map[string]int{"a": 1}, 10, 1},
		{"third", []string{"x", "y", "a", "b"}, map[string]int{"a": 2, "b": 1}, 10, 1.0 / 3},
		{"gain 0 skipped", []string{"z", "a"}, map[string]int{"z": 0, "a": 1}, 10, 0.5},
		{"at cutoff", []string{"1", "2", "a"}, map[string]int{"a": 1}, 3, 1.0 / 3},
		{"past cutoff", []string{"1", "2", "3", "a"}, map[string]int{"a": 1}, 3, 0},
		{"empty ranking", nil, map[string]int{"a": 1}, 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReciprocalRank(tt.ranked, tt.gains, tt.k); got != tt.want {
				t.Errorf("ReciprocalRank = %v, want %v", got, tt.want)
			}
		})
	}
}
