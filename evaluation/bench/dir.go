package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// Marker is the file that marks a data directory cari bench built, the
// only kind a rebuild may delete.
const Marker = "cari-bench"

// PrepareDir reports whether a run must build the index in dir: when dir
// holds none, or with rebuild, after deleting the one there, which must
// carry the Marker (a rebuild never deletes a directory it did not make).
// Building needs the corpus; PrepareDir creates dir and marks it.
func PrepareDir(dir, corpus string, rebuild bool) (bool, error) {
	entries, err := os.ReadDir(dir)
	exists := err == nil && len(entries) > 0
	if exists && rebuild {
		if _, err := os.Stat(filepath.Join(dir, Marker)); err != nil {
			return false, fmt.Errorf("--rebuild: %s was not built by cari bench (no %s file in it); delete it yourself or pick another --data", dir, Marker)
		}
		if err := os.RemoveAll(dir); err != nil {
			return false, fmt.Errorf("--rebuild: %w", err)
		}
		exists = false
	}
	if exists {
		return false, nil
	}
	if corpus == "" {
		return false, fmt.Errorf("--data %s holds no index: --corpus is required to build one", dir)
	}
	if _, err := os.Stat(corpus); err != nil {
		return false, fmt.Errorf("--corpus: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("--data: %w", err)
	}
	return true, os.WriteFile(filepath.Join(dir, Marker), []byte("built by cari bench; cari bench --rebuild may delete this directory\n"), 0o644)
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
