package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/collections"
	"github.com/cari-search/cari/indexer"
)

// Setup is one run of cari bench besides the timing Options: the index it
// builds in DataDir from Corpus (when DataDir holds none, or with Rebuild)
// or opens there, and the queries it times on it.
type Setup struct {
	Options
	DataDir, Corpus, Queries string
	// ANN is the vector file a build writes (passage vectors, query
	// vectors, exact top k: the CARIANN1 layout) and later runs read, for
	// the vector-index recall and FAISS.
	ANN string
	// CPUProfile, when set, receives a CPU profile of the build and the
	// timed searches.
	CPUProfile string
	// Language is the language of a build's documents whose corpus line
	// names none ("" detects it).
	Language string
	Rebuild  bool
	// KeywordIndex also builds the corpus without embeddings, into a
	// temporary directory, for the keyword-only throughput.
	KeywordIndex bool
}

// Validate checks the setup before anything is opened; a *cari.FieldError
// names the option at fault.
func (s Setup) Validate() error {
	if s.Queries == "" {
		return errors.New("--queries is required")
	}
	if _, err := cari.LanguageTag(s.Language); err != nil {
		return &cari.FieldError{Field: "language", Reason: err.Error()}
	}
	return s.Options.Validate()
}

// Run builds the index if it must, opens it with open (the collection in
// DataDir with the models to measure; its re-ranker should cache no
// scores, so that every timed re-ranking computes them) and times the
// searches of every mode.
func (s Setup) Run(ctx context.Context, open func(context.Context) (*collections.Collection, error), log *slog.Logger) (*Report, error) {
	texts, err := LoadQueryTexts(s.Queries, s.MaxQueries)
	if err != nil {
		return nil, fmt.Errorf("--queries: %w", err)
	}
	build, err := PrepareDir(s.DataDir, s.Corpus, s.Rebuild)
	if err != nil {
		return nil, err
	}
	rep := &Report{Corpus: s.Corpus, Cores: runtime.GOMAXPROCS(0)}
	load := indexer.LoadOptions{Logger: log, Progress: true}
	if build {
		rep.Language, load.Language = s.Language, s.Language
	}
	stop, err := StartCPUProfile(s.CPUProfile)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	defer stop()
	if build && s.KeywordIndex {
		if rep.Index, err = BuildKeywordOnly(ctx, s.DataDir, s.Corpus, load); err != nil {
			return nil, err
		}
	}
	c, err := open(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if c.Embedder != nil {
		rep.Model = c.Embedder.Model().ID()
	}
	if build {
		fig, err := Build(ctx, c.Local, c.Indexing, s.Corpus, s.ANN, load)
		if err != nil {
			return nil, err
		}
		if rep.Index == nil {
			rep.Index = &IndexFigures{}
		}
		rep.Index.Seconds, rep.Index.DocsPerSecond = fig.Seconds, fig.DocsPerSecond
	}
	stats, err := c.Local.Stats(ctx)
	if err != nil {
		return nil, err
	}
	rep.Documents, rep.Passages, rep.DiskBytes = stats.Documents, stats.Chunks, stats.DiskBytes
	if rep.Documents == 0 {
		return nil, fmt.Errorf("--data %s holds no documents: give --corpus to build an index", s.DataDir)
	}
	b := &Run{Searcher: c.Searcher, Index: c.Local, Reranks: c.Reranker != nil, Texts: texts, Options: s.Options, Log: log}
	if c.Embedder != nil {
		b.Embedder = c.Embedder
	}
	return rep, b.MeasureAll(ctx, rep, s.ANN, stop)
}
