package store

import (
	"slices"
	"testing"
)

func TestFilterKeys(t *testing.T) {
	tests := []struct {
		name string
		keys func(string) []string
		in   string
		want []string
	}{
		{"domain", DomainKeys, "docs.example.com", []string{"docs.example.com", "example.com"}},
		{"deep domain", DomainKeys, "a.b.example.co.uk", []string{"a.b.example.co.uk", "b.example.co.uk", "example.co.uk", "co.uk"}},
		{"domain normalized", DomainKeys, "WWW.Example.COM", []string{"example.com"}},
		{"single label", DomainKeys, "localhost", []string{"localhost"}},
		{"language", LanguageKeys, "zh-Hant-TW", []string{"zh-hant-tw", "zh-hant", "zh"}},
		{"language underscore", LanguageKeys, " en_GB ", []string{"en-gb", "en"}},
		{"bare language", LanguageKeys, "de", []string{"de"}},
	}
	for _, tt := range tests {
		if got := tt.keys(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("%s: keys(%q) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
}
