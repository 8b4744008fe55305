package store

import (
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
