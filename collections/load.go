package collections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
)

// Load is one run of cari index: a BEIR corpus file loaded into a
// collection.
type Load struct {
	Corpus string
	// Batch is the documents per atomic write.
	Batch int
	// Language is the language of the documents whose line names none;
	// "" takes the collection's language setting, or else detects it.
	Language string
	// MaxMalformed is the share of the corpus's lines that may be refused
	// before the load counts as failed (what it indexed stays).
	MaxMalformed float64
}

// Validate checks l before anything is opened.
func (l Load) Validate() error {
	if l.Corpus == "" {
		return errors.New("--corpus is required")
	}
	if _, err := cari.LanguageTag(l.Language); err != nil {
		return fmt.Errorf("--language: %w", err)
	}
	if l.MaxMalformed < 0 || l.MaxMalformed > 1 {
		return fmt.Errorf("--max-malformed must be between 0 and 1, got %v", l.MaxMalformed)
	}
	return nil
}

// LoadCorpus indexes l.Corpus into c, as a bulk load showing its progress.
func (c *Collection) LoadCorpus(ctx context.Context, l Load) (indexer.LoadSummary, error) {
	opts := c.Indexing
	opts.BatchSize = l.Batch
	lo := indexer.LoadOptions{Language: cmp.Or(l.Language, c.Record.Settings.Language), Logger: c.Logger, Progress: true}
	return indexer.LoadCorpus(ctx, c.Index, opts, l.Corpus, lo)
}

// Report writes what a load did to w, and fails one that indexed nothing
// or refused more than l.MaxMalformed of the lines.
func (l Load) Report(sum indexer.LoadSummary, w io.Writer) error {
	sum.WriteSummary(w, l.Corpus)
	if err := sum.Check(l.MaxMalformed); err != nil {
		fmt.Fprintf(w, "failed: %v (--max-malformed %g)\n", err, l.MaxMalformed)
		return fmt.Errorf("index %s: %w", l.Corpus, err)
	}
	return nil
}
