package flagconfig

import (
	"fmt"
	"strconv"
	"strings"
)

// ByteSize is a flag value holding a number of bytes, written plainly or
// with a binary unit: 16MiB, 1GiB, 512KiB. It prints in the largest unit
// that divides it, so that a printed configuration reads back the same.
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// String is the size in the largest binary unit that divides it.
func (b *ByteSize) String() string {
	for _, u := range byteUnits {
		if *b != 0 && int64(*b)%u.mult == 0 && u.mult > 1 {
			return strconv.FormatInt(int64(*b)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*b), 10)
}

// Set parses a whole, non-negative number of bytes with an optional unit.
func (b *ByteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return fmt.Errorf("want a size such as 1048576, 512KiB, 16MiB or 1GiB")
	}
	*b = ByteSize(n * mult)
	return nil
}

// Type names the value in help texts.
func (b *ByteSize) Type() string { return "bytes" }
