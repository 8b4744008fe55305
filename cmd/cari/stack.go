package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/indexer/local"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/searcher/rerank"
)

// stackFlags choose what every command that indexes or searches opens: the
// data directory and the models.
type stackFlags struct {
	dataDir       string
	reranker      string
	rerankerModel string
}

func (f *stackFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.dataDir, "data", "data", "data directory")
	fs.StringVar(&f.reranker, "reranker", "learned", "re-ranker: learned (in-process, the default) or none")
	fs.StringVar(&f.rerankerModel, "reranker-model", "", "model file of the learned re-ranker (default: the one built in, trained on scifact/train)")
}

// newReranker builds the configured re-ranker; nil means none.
func (f *stackFlags) newReranker() (searcher.Reranker, error) {
	switch f.reranker {
	case "none", "":
		return nil, nil
	case "learned":
		m, err := rerank.LoadModel(f.rerankerModel)
		if err != nil {
			return nil, fmt.Errorf("--reranker-model: %w", err)
		}
		return rerank.NewLearned(m), nil
	}
	return nil, fmt.Errorf("--reranker must be learned or none, got %q", f.reranker)
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
	rr, err := f.newReranker()
	if err != nil {
		return nil, err
	}
	store, err := local.Open(f.dataDir, local.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	return &stack{
		store:    store,
		searcher: searcher.New(store, searcher.Options{Reranker: rr}),
	}, nil
}

// Close closes the store.
func (s *stack) Close() error { return s.store.Close() }

// hasEmbedder reports whether neural and hybrid search can run.
func (s *stack) hasEmbedder() bool { return s.indexing.Embedder != nil }
