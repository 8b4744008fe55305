package indexer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer/corpus"
	"github.com/cari-search/cari/internal/progress"
)

// LoadOptions configure LoadCorpus.
type LoadOptions struct {
	// Language is the language (BCP 47) of the documents whose line names
	// none; "" detects it.
	Language string
	// Logger receives the skipped lines and, at debug level, each batch
	// once it is durable; nil discards them.
	Logger *slog.Logger
	// Added, when set, is called for each document accepted.
	Added func()
	// Progress shows a count of the documents accepted (on a terminal, a
	// line rewritten in place; else log lines), as cari index and bench do.
	Progress bool
}

// LoadSummary is what LoadCorpus did.
type LoadSummary struct {
	// Indexed counts the documents stored, Unchanged among them those
	// found stored with the same fingerprint (neither embedded nor
	// written again); Skipped the lines refused, malformed or invalid.
	Indexed, Unchanged, Skipped int
	Elapsed                     time.Duration
}

// WriteSummary writes what the load of the corpus at path did, as cari
// index prints it.
func (s LoadSummary) WriteSummary(w io.Writer, path string) error {
	_, err := fmt.Fprintf(w, "indexed %d documents from %s in %.1fs (%.0f docs/s), %d of them unchanged and not rewritten; skipped %d malformed lines\n",
		s.Indexed, path, s.Elapsed.Seconds(), float64(s.Indexed)/s.Elapsed.Seconds(), s.Unchanged, s.Skipped)
	return err
}

// DefaultMaxMalformed is the share of a corpus's lines a load may refuse
// before Check fails it: one in a hundred, as a reindex allows
// (reindex.DefaultMaxFailedFraction). More is a corpus in another format,
// or a broken export, rather than a few bad records.
const DefaultMaxMalformed = 0.01

// ErrNothingIndexed is Check's error for a load that stored no document.
var ErrNothingIndexed = errors.New("nothing was indexed")

// Check fails a load that indexed nothing, or that refused more than
// maxMalformed (a fraction) of its lines. The documents it stored stay.
func (s LoadSummary) Check(maxMalformed float64) error {
	lines := s.Indexed + s.Skipped
	switch {
	case s.Indexed == 0 && s.Skipped > 0:
		return fmt.Errorf("%w: all %d lines were refused", ErrNothingIndexed, s.Skipped)
	case s.Indexed == 0:
		return fmt.Errorf("%w: the corpus holds no documents", ErrNothingIndexed)
	case float64(s.Skipped) > maxMalformed*float64(lines):
		return fmt.Errorf("%d of %d lines (%.1f%%) were refused, more than the %g allowed", s.Skipped, lines, 100*float64(s.Skipped)/float64(lines), maxMalformed)
	}
	return nil
}

// LoadCorpus indexes the corpus file at path into w, as a bulk load: the
// next batch is prepared while the store writes this one. A malformed line
// or an invalid document is skipped with a warning; any other error stops
// the load after the batch being written is finished.
func LoadCorpus(ctx context.Context, w Writer, opts Options, path string, lo LoadOptions) (LoadSummary, error) {
	var sum LoadSummary
	start := time.Now()
	log := lo.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r, err := corpus.Open(path)
	if err != nil {
		return sum, err
	}
	defer r.Close()
	if lo.Progress {
		bar := progress.NewCounter("indexing", -1, log)
		defer bar.Finish()
		added := lo.Added
		lo.Added = func() {
			bar.Add(1)
			if added != nil {
				added()
			}
		}
	}
	opts.Pipelined = true
	ix, err := New(w, opts)
	if err != nil {
		return sum, err
	}
	// On an error, the batch being written is finished before the caller
	// closes the store.
	defer ix.Wait()
	// added remembers where each accepted document came from, until the
	// batch holding it is stored: a batch is acknowledged in a later Add
	// than the one that completed it.
	type mark struct {
		added, line int
		id          string
	}
	var added []mark
	accepted := 0
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var lineErr *corpus.LineError
		if errors.As(err, &lineErr) {
			sum.Skipped++
			log.Warn("skipped malformed corpus line", "line", lineErr.Line, "error", lineErr.Err)
			continue
		}
		if err != nil {
			return sum, err
		}
		// Normalize, in Add, canonicalises the language and refuses one
		// that is not a language tag.
		doc := cari.Document{ID: rec.ID, Title: rec.Title, Text: rec.Text, Language: cmp.Or(strings.TrimSpace(rec.Language), lo.Language)}
		before := ix.Written()
		if err := ix.Add(ctx, doc); err != nil {
			var fe *cari.FieldError
			if errors.As(err, &fe) {
				sum.Skipped++
				log.Warn("skipped invalid document", "line", r.Line(), "id", rec.ID, "error", err)
				continue
			}
			return sum, err
		}
		accepted++
		added = append(added, mark{accepted, r.Line(), doc.ID})
		if n := ix.Written(); n > before {
			// Logged once the batch is durable: what the crash test (and an
			// operator resuming after a crash) counts as acknowledged.
			i := slices.IndexFunc(added, func(m mark) bool { return m.added == n })
			log.Debug("committed batch", "documents", n, "through_line", added[i].line, "last_id", added[i].id)
			added = slices.Delete(added, 0, i+1)
		}
		if lo.Added != nil {
			lo.Added()
		}
	}
	if err := ix.Flush(ctx); err != nil {
		return sum, err
	}
	log.Debug("committed batch", "documents", ix.Written(), "through_line", r.Line())
	sum.Indexed, sum.Unchanged = ix.Written(), ix.Unchanged()
	sum.Elapsed = time.Since(start)
	return sum, nil
}
