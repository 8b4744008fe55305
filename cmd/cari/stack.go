package main

import (
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/indexer/local"
	"github.com/cari-search/cari/searcher"
)

// stackFlags choose what every command that indexes or searches opens: the
// data directory and the models.
type stackFlags struct {
	dataDir string
}

func (f *stackFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.dataDir, "data", "data", "data directory")
}

// stack is the store with the models wired to it: what cari index, eval and
// serve share, so each command builds it the same way.
type stack struct {
	store    *local.Store
	searcher *searcher.Searcher
	// indexing configures indexers that write to store (chunking and the
	// document embedder).
	indexing indexer.Options
}

// openStack opens the data directory with the configured models.
func openStack(f stackFlags, log *slog.Logger) (*stack, error) {
	store, err := local.Open(f.dataDir, local.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	return &stack{
		store:    store,
		searcher: searcher.New(store, searcher.Options{}),
	}, nil
}

// Close closes the store.
func (s *stack) Close() error { return s.store.Close() }
