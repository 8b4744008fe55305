package bench

import (
	"context"
	"fmt"

	"github.com/cari-search/cari/indexer"
)

// Build indexes the corpus file into w as cari index does (load.Added
// can show the progress) and gives the build's throughput. With annPath
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
