package reindex

import (
	"errors"
	"fmt"
	"io"

	"github.com/cari-search/cari"
)

// Source yields the records a new generation is built from, always in the
// same order, so that a resumed job can skip the ones already committed by
// counting them.
type Source interface {
	// Describe names the source (kind and absolute path); a job resumes
	// only a build begun with the same description.
	Describe() string
	// Total is the number of records, or -1 when unknown (a WARC file
	// before it is read to the end).
	Total() int64
	// Next returns the next record, or io.EOF after the last. An error
	// other than io.EOF ends the job.
	Next() (Item, error)
	// Close releases the source's files.
	Close() error
}

// Item is one source record.
type Item struct {
	// Where locates the record in its source for messages: a line number,
	// a file name, a WARC record's offset.
	Where string
	// Document makes the record's document. It may be costly (HTML
	// extraction), so the job calls it on a pool of workers. An error
	// wrapping ErrSkip means the record is not a document (an image, a
	// redirect) and counts as skipped; any other error counts as a failed
	// document under the Reason of a *RecordError, or "invalid".
	Document func() (cari.Document, error)
}

// ErrSkip marks a record that is not a document.
var ErrSkip = errors.New("not a document")

// RecordError is a record that could not be turned into a document.
type RecordError struct {
	// Reason is a lower_snake_case cause that failures are counted by, such
	// as "extract", "encoding" or "read".
	Reason string
	Err    error
}

func (e *RecordError) Error() string { return fmt.Sprintf("%s: %v", e.Reason, e.Err) }
func (e *RecordError) Unwrap() error { return e.Err }

// skip runs n items of src without making their documents, to resume after
// them.
func skip(src Source, n int64) error {
	for i := int64(0); i < n; i++ {
		if _, err := src.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("the source has %d records, fewer than the %d the unfinished build already holds: it changed since the build began", i, n)
			}
			return err
		}
	}
	return nil
}
