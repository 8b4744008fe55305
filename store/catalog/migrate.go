package catalog

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cari-search/cari/internal/atomicfile"
)

// legacyCurrent is store/local's serving alias in a data directory made
// before collections existed: its presence marks such a directory, and it
// moves last, so that the directory reads as an index until everything
// else has moved.
const legacyCurrent = "CURRENT"

// legacyEntries are what a data directory held before collections, besides
// its lock, in the order they move: the store's generations, the embedding
// cache, the crawl state, and last the serving alias. Nothing else moves, so
// that a --data pointed by mistake at a directory of other files leaves
// them where they are.
var legacyEntries = []string{"generations", "embcache", "crawl", legacyCurrent}

// StepDelayEnv names the variable that makes the move into Default pause
// after each step (a Go duration), so that the crash test can kill the
// process between any two steps; unset, there is no pause.
const StepDelayEnv = "CARI_TEST_MIGRATE_STEP_DELAY"

// migrate makes dir a catalog: it moves an index made before collections
// (legacyEntries) into collections/Default and then writes catalog.json
// naming Default. A fresh directory gets an empty Default.
//
// Every step is a rename within dir, made durable (a directory sync) before
// the next, and catalog.json is written last. A crash anywhere leaves no
// catalog, so the next Open runs migrate again, which skips the entries
// already moved (their source is gone) and moves the rest: the index is
// never in neither place, and never half-copied. step, when not nil, is
// called after each durable step (tests stop the move there).
func migrate(dir string, log *slog.Logger, step func(entry string) error) error {
	dest := filepath.Join(dir, collectionsDir, Default)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return err
	}
	delay, _ := time.ParseDuration(os.Getenv(StepDelayEnv))
	for _, name := range legacyEntries {
		moved, err := moveEntry(dir, dest, name)
		if err != nil {
			return err
		}
		if !moved {
			continue
		}
		log.Info("moved an index made before collections into collection "+Default, "entry", name, "to", dest)
		if step != nil {
			if err := step(name); err != nil {
				return err
			}
		}
		time.Sleep(delay)
	}
	return writeRecord(dir, record{
		Format:      formatVersion,
		Collections: map[string]*Collection{Default: {Name: Default, Created: time.Now().UTC()}},
	})
}

// moveEntry renames dir/name to dest/name durably, reporting false when
// there is nothing to move. Both existing means another process wrote the
// old layout after a move began: that is refused, naming both, rather than
// choosing which to keep.
func moveEntry(dir, dest, name string) (bool, error) {
	from, to := filepath.Join(dir, name), filepath.Join(dest, name)
	if _, err := os.Lstat(from); errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if _, err := os.Lstat(to); err == nil {
		return false, fmt.Errorf("both %s and %s exist: move one aside (the one in %s is the index already moved)", from, to, dest)
	}
	if err := os.Rename(from, to); err != nil {
		return false, err
	}
	if err := atomicfile.SyncDir(dest); err != nil {
		return false, err
	}
	return true, atomicfile.SyncDir(dir)
}
