package reindex

import (
	"context"
	"strings"
	"testing"
)

// TestSourcesCheck: exactly one source, and the error names those given.
func TestSourcesCheck(t *testing.T) {
	for _, tc := range []struct {
		s    Sources
		want string
	}{
		{Sources{}, "(got 0)"},
		{Sources{Corpus: "c", Stored: true}, "(got 2: --corpus --stored)"},
	} {
		if err := tc.s.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.s, err, tc.want)
		}
	}
	if err := (Sources{WARC: "x"}).Check(); err != nil {
		t.Errorf("one source: %v", err)
	}
	if _, err := (Sources{Dir: "/does/not/exist"}).Open(context.Background(), nil, ""); err == nil || !strings.HasPrefix(err.Error(), "--dir: ") {
		t.Errorf("missing dir: %v, want an error naming --dir", err)
	}
}
