package store

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestFilterIsZero(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		f    Filter
		zero bool
	}{
		{"zero value", Filter{}, true},
		{"empty slices", Filter{IncludeDomains: []string{}, Languages: []string{}}, true},
		{"include domains", Filter{IncludeDomains: []string{"a.com"}}, false},
		{"exclude domains", Filter{ExcludeDomains: []string{"a.com"}}, false},
		{"published from", Filter{PublishedFrom: now}, false},
		{"published to", Filter{PublishedTo: now}, false},
		{"crawled from", Filter{CrawledFrom: now}, false},
		{"crawled to", Filter{CrawledTo: now}, false},
		{"include text", Filter{IncludeText: []string{"p"}}, false},
		{"exclude text", Filter{ExcludeText: []string{"p"}}, false},
		{"languages", Filter{Languages: []string{"en"}}, false},
	}
	for _, tt := range tests {
		if got := tt.f.IsZero(); got != tt.zero {
			t.Errorf("%s: IsZero() = %v, want %v", tt.name, got, tt.zero)
		}
	}
}

func TestStatsWrite(t *testing.T) {
	s := Stats{Generation: "g1", Documents: 3, Chunks: 5, AvgDocTokens: 2.5, DiskBytes: 3 << 20}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil || text.String() != "generation  g1\ndocuments   3\nchunks      5\ndisk        3.0 MiB\n" {
		t.Errorf("WriteText: %q, %v", text.String(), err)
	}
	b, err := json.Marshal(s)
	if err != nil || string(b) != `{"generation":"g1","documents":3,"chunks":5,"avg_doc_tokens":2.5,"disk_bytes":3145728}` {
		t.Errorf("JSON %s, %v", b, err)
	}
	// The time of the last write, where the store records it, in UTC.
	s.LastWrite = time.Date(2026, 12, 7, 18, 30, 5, 123, time.FixedZone("WIB", 7*3600))
	text.Reset()
	if err := s.WriteText(&text); err != nil || !strings.HasSuffix(text.String(), "disk        3.0 MiB\nlast write  2026-12-07T11:30:05Z\n") {
		t.Errorf("WriteText with LastWrite: %q, %v", text.String(), err)
	}
	if b, err := json.Marshal(s); err != nil || !strings.HasSuffix(string(b), `"disk_bytes":3145728,"last_write":"2026-12-07T18:30:05.000000123+07:00"}`) {
		t.Errorf("JSON with LastWrite %s, %v", b, err)
	}
}
