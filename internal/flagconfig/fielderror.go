package flagconfig

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cari-search/cari"
)

// FieldError rewrites a *cari.FieldError, whose Field names an option as
// the API does ("max_depth", "seeds[2]"), as an error naming the flag that
// sets it: the field's name with dashes ("--max-depth"), or the flag
// renames gives for it ("seeds": "--seed"), with the element's number
// for a list. Any other error comes back as it is.
func FieldError(err error, renames map[string]string) error {
	var fe *cari.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	name, index, _ := strings.Cut(fe.Field, "[")
	flag, ok := renames[name]
	if !ok {
		flag = "--" + strings.ReplaceAll(name, "_", "-")
	}
	if index != "" {
		return fmt.Errorf("%s (number %s): %s", flag, strings.TrimSuffix(index, "]"), fe.Reason)
	}
	return fmt.Errorf("%s: %s", flag, fe.Reason)
}
