package local

import (
	"errors"
	"strings"

	"github.com/cari-search/cari/internal/dirlock"
)

// ErrLocked is returned by Open when another process has the directory
// open; dirlock.ServerOf then says which server to ask instead. It is
// dirlock.ErrLocked, which the catalog of a data directory returns too.
var ErrLocked = dirlock.ErrLocked

// ErrNoIndex is returned by Open with Options.MustExist when the data
// directory does not exist or holds no index. It is dirlock.ErrNoIndex.
var ErrNoIndex = dirlock.ErrNoIndex

// checkIndexExists refuses a data directory that does not exist or has no
// serving generation, naming the path.
func checkIndexExists(dir string) error {
	return dirlock.CheckIndex(dir, func() (bool, error) {
		name, err := readCurrent(dir)
		return strings.TrimSpace(name) != "", err
	})
}

func (s *Store) unlock() {
	if s.lock != nil {
		s.lock.Close() // closing releases the flock
		s.lock = nil
	}
}

// HasIndex reports whether dir holds an index that Open would open rather
// than create, as Options.MustExist requires. The error is one that says
// neither, such as a damaged serving alias.
func HasIndex(dir string) (bool, error) {
	err := checkIndexExists(dir)
	if errors.Is(err, ErrNoIndex) {
		return false, nil
	}
	return err == nil, err
}
