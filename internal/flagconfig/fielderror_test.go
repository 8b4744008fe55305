package flagconfig

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cari-search/cari"
)

func TestFieldError(t *testing.T) {
	renames := map[string]string{"seeds": "--seed"}
	other := errors.New("disk full")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&cari.FieldError{Field: "max_depth", Reason: "must be 0 or more"}, "--max-depth: must be 0 or more"},
		{fmt.Errorf("crawl: %w", &cari.FieldError{Field: "seeds[2]", Reason: "not a URL"}), "--seed (number 2): not a URL"},
		{other, "disk full"},
	} {
		if got := FieldError(tc.err, renames); got.Error() != tc.want {
			t.Errorf("FieldError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
