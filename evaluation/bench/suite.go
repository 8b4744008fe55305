package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"

	"github.com/cari-search/cari/evaluation"
)

// LoadQueryTexts reads the texts of the first max queries of a BEIR
// queries file, the searches a Run times; a file with none is an error.
func LoadQueryTexts(path string, max int) ([]string, error) {
	queries, err := evaluation.LoadQueries(path)
	if err != nil {
		return nil, err
	}
	if len(queries) == 0 {
		return nil, fmt.Errorf("%s holds no queries", path)
	}
	texts := make([]string, 0, min(len(queries), max))
	for _, q := range queries[:min(len(queries), max)] {
		texts = append(texts, q.Text)
	}
	return texts, nil
}

// MeasureAll measures the open index into rep: the resident memory before
// any search, every mode (MeasureModes), the peak memory, and the recall
// against the vector file annPath (MeasureRecall). stop ends the CPU
// profile once the searches are timed, before the recall's exact search.
func (b *Run) MeasureAll(ctx context.Context, rep *Report, annPath string, stop func() error) error {
	runtime.GC()
	rep.RSSBytes, _ = ProcessMemory()
	var err error
	if rep.Searches, err = b.MeasureModes(ctx); err != nil {
		return err
	}
	if err := stop(); err != nil {
		return err
	}
	_, peak := ProcessMemory()
	// The kernel updates the high-water mark lazily: it can trail a
	// resident size read earlier.
	rep.PeakRSSBytes = max(peak, rep.RSSBytes)
	if rep.VectorRecall10, err = b.MeasureRecall(ctx, annPath); err != nil {
		return fmt.Errorf("--ann: %w", err)
	}
	return nil
}

// MeasureModes times every mode of Options.Modes, skipping with a warning
// those the index cannot run (ErrModeUnavailable).
func (b *Run) MeasureModes(ctx context.Context) ([]Figures, error) {
	var figs []Figures
	for _, m := range b.Options.Modes {
		fig, err := b.Measure(ctx, m)
		if errors.Is(err, ErrModeUnavailable) {
			b.logger().Warn("skipped mode", "mode", m, "reason", err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("mode %s: %w", m, err)
		}
		figs = append(figs, fig)
	}
	return figs, nil
}

// MeasureRecall is VectorRecall against the vector file path, or nil when
// there is nothing to measure: no path, a keyword-only index, or no file
// yet (it is written by the run that builds the index; a warning says so).
func (b *Run) MeasureRecall(ctx context.Context, path string) (*float64, error) {
	if path == "" {
		return nil, nil
	}
	if _, err := os.Stat(path + ".ids"); err != nil {
		b.logger().Warn("no recall measured: the vector file is written by the run that builds the index", "ann", path, "error", err)
		return nil, nil
	}
	if b.Embedder == nil {
		return nil, nil
	}
	r, err := b.VectorRecall(ctx, path)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (b *Run) logger() *slog.Logger {
	if b.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return b.Log
}
