package reindex

import (
	"fmt"
	"testing"
	"time"
)

func TestProgressSummary(t *testing.T) {
	p := Progress{Generation: "g2", Done: 7, Total: -1, Indexed: 5, Failed: 2, Rate: 3.4, Errors: map[string]int64{"parse": 1, "invalid": 1}}
	if got := p.TotalString(); got != "unknown" {
		t.Errorf("TotalString of an uncounted source = %q", got)
	}
	if got := p.FailureReasons(); got != " (invalid 1, parse 1)" {
		t.Errorf("FailureReasons = %q", got)
	}
	if got := fmt.Sprint(p.LogAttrs()); got != "[generation g2 done 7 total unknown indexed 5 failed 2 per_second 3]" {
		t.Errorf("LogAttrs = %s", got)
	}
	p.Total, p.Errors, p.ETA = 10, nil, 1500*time.Millisecond
	if p.TotalString() != "10" || p.FailureReasons() != "" {
		t.Errorf("TotalString %q, FailureReasons %q", p.TotalString(), p.FailureReasons())
	}
	if got := fmt.Sprint(p.LogAttrs()); got != "[generation g2 done 7 total 10 indexed 5 failed 2 per_second 3 eta 2s]" {
		t.Errorf("LogAttrs with an ETA = %s", got)
	}
}
