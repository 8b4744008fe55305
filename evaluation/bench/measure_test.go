package bench

import (
	"testing"
	"time"
)

func TestLatencyFigures(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- { // 1..100 ms, given out of order
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	f := LatencyFigures(lat)
	if f.P50Ms != 50 || f.P99Ms != 99 || f.MeanMs != 50.5 {
		t.Errorf("p50 %v p99 %v mean %v, want 50, 99, 50.5", f.P50Ms, f.P99Ms, f.MeanMs)
	}
	if q := f.QPS; q < 19.80 || q > 19.81 { // 100 queries in 5.05 s
		t.Errorf("qps %v, want 19.80", q)
	}
	if lat[0] != 100*time.Millisecond {
		t.Error("LatencyFigures reordered its argument")
	}
}
