package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/cari-search/cari/embeddings"
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
	embed         embedFlags
	fs            *pflag.FlagSet
}

func (f *stackFlags) register(fs *pflag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.dataDir, "data", "data", "data directory")
	fs.StringVar(&f.reranker, "reranker", "learned", "re-ranker: learned (in-process, the default) or none")
	fs.StringVar(&f.rerankerModel, "reranker-model", "", "model file of the learned re-ranker (default: the one built in, trained on scifact/train)")
	f.embed.register(fs)
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

// newEmbedder opens the configured embedding model; nil means keyword only.
// With no --embedder given and the default static model not fetched yet,
// Cari runs keyword-only and says how to get the model, so that a fresh
// checkout works before "make models"; an embedder asked for by name must
// load.
func (f *stackFlags) newEmbedder(ctx context.Context, log *slog.Logger) (*embeddings.Provider, error) {
	if f.embed.provider == "none" {
		return nil, nil
	}
	explicit := f.fs != nil && (f.fs.Changed("embedder") || f.fs.Changed("embed-model"))
	cacheDir := ""
	if f.embed.provider != embeddings.ProviderStatic {
		cacheDir = filepath.Join(f.dataDir, "embcache")
	}
	cfg := f.embed.config(cacheDir)
	cfg.Logger = log
	e, err := embeddings.New(ctx, cfg)
	if err != nil && !explicit && errors.Is(err, os.ErrNotExist) {
		log.Warn("no embedding model: keyword search only (fetch the default model with \"make models\", or pass --embedder none to silence this)", "error", err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--embedder %s: %w", f.embed.provider, err)
	}
	return e, nil
}

// stack is the store with the models wired to it: what cari index, eval and
// serve share, so each command builds it the same way.
type stack struct {
	store    *local.Store
	embedder *embeddings.Provider // nil when keyword-only
	searcher *searcher.Searcher
	// indexing configures indexers that write to store (chunking and the
	// document embedder).
	indexing indexer.Options
}

// openStack opens the data directory with the configured models.
func openStack(ctx context.Context, f stackFlags, log *slog.Logger) (*stack, error) {
	rr, err := f.newReranker()
	if err != nil {
		return nil, err
	}
	emb, err := f.newEmbedder(ctx, log)
	if err != nil {
		return nil, err
	}
	st := &stack{embedder: emb}
	opts := local.Options{Logger: log}
	sopts := searcher.Options{Reranker: rr}
	if emb != nil {
		info := emb.Model()
		opts.Vectors = local.VectorSpace{Model: info.ID(), Dim: info.Dim}
		st.indexing.Embedder = emb
		sopts.Embedder, sopts.Model = emb, info.ID()
		sopts.Fusion = defaultFusion(info)
	}
	st.store, err = local.Open(f.dataDir, opts)
	if err != nil {
		if emb != nil {
			emb.Close()
		}
		return nil, err
	}
	st.searcher = searcher.New(st.store, sopts)
	return st, nil
}

// defaultFusion is the hybrid default for a model. The static word-vector
// model is a weak signal that helps only as a small weight in a score
// combination (tuned on scifact/train, docs/EVALUATION.md); a transformer
// model is a strong one, fused by rank.
func defaultFusion(m embeddings.ModelInfo) searcher.Fusion {
	if m.Provider == embeddings.ProviderStatic {
		return staticFusion
	}
	return searcher.DefaultFusion
}

// staticFusion was chosen on scifact/train; see docs/EVALUATION.md.
var staticFusion = searcher.Fusion{Method: searcher.FusionScore, Alpha: 0.05, Candidates: 100}

// Close closes the store and the embedder.
func (s *stack) Close() error {
	err := s.store.Close()
	if s.embedder != nil {
		err = errors.Join(err, s.embedder.Close())
	}
	return err
}

// hasEmbedder reports whether neural and hybrid search can run.
func (s *stack) hasEmbedder() bool { return s.embedder != nil }
