package evaluation

import (
	"math"
	"testing"
)

func TestLog2(t *testing.T) {
	// Values printed by Python's math.log2 (glibc), the reference for DCG discounts.
	tests := []struct {
		n    int
		want float64
	}{
		{1, 0},
		{2, 1},
		{3, 1.584962500721156},
		{4, 2},
		{5, 2.321928094887362},
		{6, 2.584962500721156},
		{7, 2.807354922057604},
		{8, 3},
		{9, 3.169925001442312},
		{10, 3.321928094887362},
		{11, 3.4594316186372973},
		{101, 6.658211482751795},
		{1000, 9.965784284662087},
		// glibc gives 10.662668375517542 here, one unit in the last place off the correctly
		// rounded value: the first rank where the two differ.
		{1621, 10.66266837551754},
	}
	for _, tt := range tests {
		if got := log2(tt.n); got != tt.want {
			t.Errorf("log2(%d) = %.17g, want %.17g", tt.n, got, tt.want)
		}
	}
}

func TestLog2WithinOneULPOfMathLog2(t *testing.T) {
	for n := 1; n <= 5000; n++ {
		got, approx := log2(n), math.Log2(float64(n))
		if got != approx && math.Nextafter(approx, got) != got {
			t.Fatalf("log2(%d) = %.17g, more than one ulp from math.Log2 %.17g", n, got, approx)
		}
	}
}

func BenchmarkLog2(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		log2(3 + i%1000)
	}
}
