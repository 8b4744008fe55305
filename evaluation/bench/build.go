package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/store/local"
)

// Build indexes the corpus file into w as cari index does (load.Progress
// shows the progress) and gives the build's throughput. With annPath
// and an embedder in opts it also records the passage vectors the store
// receives (NewVectorTee), for the vector-index recall and the peers.
func Build(ctx context.Context, w indexer.Writer, opts indexer.Options, corpus, annPath string, load indexer.LoadOptions) (IndexFigures, error) {
	var tee *VectorTee
	if annPath != "" && opts.Embedder != nil {
		var err error
		if tee, err = NewVectorTee(w, annPath); err != nil {
			return IndexFigures{}, fmt.Errorf("vector file: %w", err)
		}
		defer tee.Abort()
		w = tee
	}
	sum, err := indexer.LoadCorpus(ctx, w, opts, corpus, load)
	if err != nil {
		return IndexFigures{}, err
	}
	if tee != nil {
		if err := tee.Finish(); err != nil {
			return IndexFigures{}, fmt.Errorf("vector file: %w", err)
		}
	}
	s := sum.Elapsed.Seconds()
	return IndexFigures{Seconds: s, DocsPerSecond: float64(sum.Indexed) / s}, nil
}

// BuildKeywordOnly indexes the corpus without embeddings into a temporary
// local store beside dataDir, and deletes it: the throughput of the
// keyword side alone, for the figures' KeywordOnly fields.
func BuildKeywordOnly(ctx context.Context, dataDir, corpus string, load indexer.LoadOptions) (*IndexFigures, error) {
	dir, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dataDir)), "bench-keyword-only-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s, err := local.Open(dir, local.Options{Logger: load.Logger})
	if err != nil {
		return nil, err
	}
	fig, err := Build(ctx, s, indexer.Options{}, corpus, "", load)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("keyword-only build: %w", err)
	}
	return &IndexFigures{KeywordOnlySeconds: fig.Seconds, KeywordOnlyDocsPerSecond: fig.DocsPerSecond}, nil
}
