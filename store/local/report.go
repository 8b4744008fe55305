package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/cari-search/cari/store"
)

// WriteText writes the report for a reader: a line of counts, a line per
// problem, and "ok" when there is none.
func (r Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "generation %s: %d documents, %d passages; vectors for %d documents, %d passages; %d keyword segments checked\n",
		r.Generation, r.Documents, r.Passages, r.VectorDocuments, r.VectorPassages, r.Segments)
	for _, p := range r.Problems {
		fmt.Fprintln(w, "problem:", p)
	}
	if r.OK() {
		fmt.Fprintln(w, "ok")
	}
}

// WriteJSON writes the report as indented JSON, Problems a list even when
// empty, so that a script can count them.
func (r Report) WriteJSON(w io.Writer) error {
	if r.Problems == nil {
		r.Problems = []Problem{}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// StatsDir opens the data directory dir, which must hold an index, reads
// the serving generation's statistics (Stats) and closes it. Beside a
// server holding dir it fails with ErrLocked; dirlock.ServerOf then names the
// server to ask.
func StatsDir(ctx context.Context, dir string, log *slog.Logger) (store.Stats, error) {
	s, err := Open(dir, Options{Logger: log, MustExist: true})
	if err != nil {
		return store.Stats{}, err
	}
	st, err := s.Stats(ctx)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return st, err
}

// VerifyDir opens the data directory dir as a server would (which detects
// damaged files and cuts off a batch that never committed), verifies it
// (Verify) and closes it. It opens without an embedding model: the vector
// log is read and checked all the same, and no model needs loading.
func VerifyDir(ctx context.Context, dir string, log *slog.Logger) (Report, error) {
	s, err := Open(dir, Options{Logger: log, MustExist: true})
	if errors.Is(err, ErrLocked) {
		return Report{}, fmt.Errorf("verify reads the files themselves, which it cannot beside the process holding them (cari stats asks a running server instead): %w", err)
	}
	if err != nil {
		return Report{}, err
	}
	rep, err := s.Verify(ctx)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return rep, err
}
