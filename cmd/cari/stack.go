package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/indexer/reindex"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/searcher/rerank"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
	"github.com/cari-search/cari/store/qdrant"
)

// defaultDataDir is --data's default: every command that opens the local
// store finds it in the working directory.
const defaultDataDir = "data"

// stackFlags choose what every command that indexes or searches opens: the
// data directory and the models.
type stackFlags struct {
	dataDir string
	// collection names the collection (or alias) in dataDir the command
	// works on; the commands that write create it, with the settings their
	// flags name, when it does not exist.
	collection string
	// settings are the collection's, once openStack opened it.
	settings catalog.Settings
	// rerank is the re-ranker; Kind "none" for commands that never search.
	rerank rerank.Config
	embed  embeddings.Config
	// storage selects the store; its flags are registered only by the
	// commands that can run on Qdrant (serve, index, crawl, eval).
	storage storeFlags
	fs      *pflag.FlagSet

	// search holds the searcher's options the flags bind (its re-ranker
	// and model are the stack's); cari bench turns the score cache off.
	search searcher.Options
	// logger receives the store's and re-ranking clients' messages.
	logger *slog.Logger
	// efSearch is the local vector index's search candidate list length
	// (0: local.DefaultEfSearch, for the commands that never search).
	efSearch int
	// rebuild opens a data directory whose serving generation was built
	// with another analyzer or model (cari reindex); embedCache caches
	// the static model's vectors too (cari reindex --embed-cache).
	rebuild, embedCache bool
	// existing opens only a data directory that holds an index, for the
	// commands that read one (eval, gc, ...): a mistyped --data is an
	// error, never a new empty index.
	existing bool
	// serveAddr is the gRPC address cari serve listens on, recorded in
	// the data directory's lock file so that cari stats can ask it.
	serveAddr string
}

// stackParts say which of the stack's flags a command takes, so that its
// --help lists only what it uses.
type stackParts int

const (
	// embeds: the embedding model's flags (without them, keyword only).
	embeds stackParts = 1 << iota
	// searches: the local vector index's search settings.
	searches
	// reranks: the re-ranker's flags (without them, no re-ranker).
	reranks
	// onQdrant: the store's flags, for the commands that can run on
	// Qdrant.
	onQdrant
)

func (f *stackFlags) register(fs *pflag.FlagSet, parts stackParts) {
	f.fs = fs
	fs.StringVar(&f.dataDir, "data", defaultDataDir, "data directory")
	registerCollection(fs, &f.collection)
	f.embed.Provider, f.rerank.Kind = embeddings.ProviderNone, rerank.KindNone
	if parts&embeds != 0 {
		registerEmbedFlags(fs, &f.embed)
	}
	if parts&searches != 0 {
		fs.IntVar(&f.efSearch, "ef-search", local.DefaultEfSearch, fmt.Sprintf("local store: candidate list length of a vector search in the HNSW index, 1 to %d; lower is faster at lower recall (recall@10 0.99 and up on SciFact and the Python docs at the default; see docs/BENCHMARKS.md)", local.MaxEfSearch))
		fs.IntVar(&f.search.MaxQueryChars, "max-query-chars", searcher.DefaultMaxQueryChars, "longest query text a search takes, in characters (verbose topics and pasted paragraphs fit the default); past 1,024 analysed terms the keyword side reads the first 1,024")
	}
	if parts&reranks != 0 {
		f.registerRerank(fs)
	}
	if parts&onQdrant != 0 {
		f.storage.register(fs)
	}
}

func (f *stackFlags) registerRerank(fs *pflag.FlagSet) {
	d, r := rerank.DefaultConfig(), &f.rerank
	fs.StringVar(&r.Kind, "reranker", d.Kind, "re-ranker: learned (in-process, the default), chat (an OpenAI-compatible chat server judging each candidate yes/no from logprobs, Qwen3-Reranker's way), listwise (a chat model ordering windows of candidates, RankGPT's way, for servers without logprobs), rerank-api (a /v1/rerank server: vLLM, llama.cpp, Infinity), tei (Hugging Face TEI's /rerank), onnx (a cross-encoder exported to ONNX, in-process) or none")
	fs.StringVar(&r.Model, "reranker-model", d.Model, "learned: model file of the learned re-ranker (default: the one built in, trained on scifact/train); onnx: the cross-encoder's directory (model.onnx, tokenizer.json, config.json), a path or a name in --models")
	fs.StringVar(&r.URL, "rerank-url", d.URL, "chat, listwise, rerank-api: base URL of the model server, including /v1 (Infinity serves at its root unless started with --url-prefix /v1); tei: the server's root")
	fs.StringVar(&r.ServedModel, "rerank-model", d.ServedModel, "chat, listwise, rerank-api: served model name (tei: optional, names the scores in the cache)")
	fs.StringVar(&r.APIKeyFile, "rerank-api-key-file", d.APIKeyFile, "file holding the model server's API key (default: $"+rerank.DefaultAPIKeyEnv+")")
	fs.DurationVar(&r.Timeout, "rerank-timeout", d.Timeout, fmt.Sprintf("time one query's re-ranking may take before results keep the first-stage order (default %s; listwise %s)", searcher.DefaultRerank.Timeout, rerank.ListwiseTimeout))
	fs.IntVar(&r.Concurrency, "rerank-concurrency", d.Concurrency, fmt.Sprintf("chat, rerank-api, tei: requests in flight for one query (default %d)", rerank.DefaultConcurrency))
	fs.IntVar(&f.search.Rerank.TopN, "rerank-top-n", 0, fmt.Sprintf("candidates re-ranked per query unless the request says (default %d, at most %d)", searcher.DefaultRerank.TopN, searcher.MaxRerankTopN))
	fs.StringVar(&r.Instruction, "rerank-instruction", d.Instruction, "chat, and rerank-api or tei with qwen3 prompts: the task instruction of Qwen3-Reranker's prompt")
	fs.IntVar(&r.MaxTokens, "rerank-max-tokens", d.MaxTokens, fmt.Sprintf("onnx: tokens of a (query, passage) pair, the passage cut to fit (default %d, or fewer if the model has fewer positions)", rerank.DefaultONNXMaxTokens))
	fs.StringVar(&r.Prompts, "rerank-prompts", d.Prompts, "rerank-api, tei: auto (qwen3 when the model the server says it serves, else --rerank-model, is a Qwen3-Reranker), none (the server adds any prompt itself, as llama.cpp does) or qwen3 (Cari wraps query and documents in Qwen3-Reranker's prompt, which vLLM and TEI need)")
}

// newReranker builds the configured re-ranker; nil means none.
func (f *stackFlags) newReranker() (searcher.Reranker, error) {
	c := f.rerank
	c.ModelsDir, c.Logger = f.embed.ModelsDir, f.logger
	return rerank.New(c)
}

// newEmbedder opens the configured embedding model; nil means keyword
// only, also when no --embedder was named and the default model is not
// fetched yet (embeddings.NewIfAny). The static model's vectors are cached
// only with --embed-cache: embedding them costs about a cache lookup.
func (f *stackFlags) newEmbedder(ctx context.Context, log *slog.Logger, dir string) (*embeddings.Provider, error) {
	cfg := f.embed
	if cfg.Provider != embeddings.ProviderStatic || f.embedCache {
		cfg.CacheDir = filepath.Join(dir, "embcache")
	}
	cfg.Logger = log
	named := f.changed("embedder") || f.changed("embed-model") || f.settings.Embedder != ""
	e, err := embeddings.NewIfAny(ctx, cfg, named)
	if err != nil {
		return nil, fmt.Errorf("--embedder %s: %w", f.embed.Provider, err)
	}
	return e, nil
}

// stack is the store with the models wired to it: what cari index, eval and
// serve share, so each command builds it the same way.
type stack struct {
	// catalog holds the data directory (nil on Qdrant); dir is the
	// collection's directory in it, and collection its record.
	catalog    *catalog.Catalog
	dir        string
	collection catalog.Collection
	store      *local.Store
	embedder   *embeddings.Provider // nil when keyword-only
	reranker   searcher.Reranker    // nil when none
	// index is the store every command reads and writes through: store,
	// or the Qdrant store (then store is nil).
	index store.Store
	// storeName is "local" or "qdrant", as GetStats reports it.
	storeName string
	// builds, stored and gc are index as a reindex target, as a reindex
	// source of its serving generation, and its collection of replaced
	// generations, whichever store it is.
	builds   reindex.Target
	stored   reindex.Stored
	gc       func(keep int) ([]string, error)
	logger   *slog.Logger
	searcher *searcher.Searcher
	// indexing configures indexers that write to store (chunking and the
	// document embedder).
	indexing indexer.Options
}

// openStack opens the data directory with the configured models.
func openStack(ctx context.Context, f stackFlags, log *slog.Logger) (*stack, error) {
	if err := local.CheckEfSearch(f.efSearch); err != nil {
		return nil, fmt.Errorf("--ef-search %w", err)
	}
	if f.fs != nil && f.fs.Changed("ef-search") && f.storage.kind == "qdrant" {
		return nil, errors.New("--ef-search sets the local store's vector index; with --store qdrant, Qdrant searches with its collection's own settings")
	}
	if f.fs != nil && f.fs.Changed("max-query-chars") && f.search.MaxQueryChars < 1 {
		return nil, fmt.Errorf("--max-query-chars: must be at least 1, got %d", f.search.MaxQueryChars)
	}
	f.logger = log
	if w := analysis.IndonesianStemmingWarning(); w != "" {
		log.Warn(w)
	}
	st := &stack{logger: log, dir: f.dataDir}
	if f.storage.kind != "qdrant" {
		cat, col, err := openCollection(f.dataDir, f.collection, f.existing, f.createSettings(), log)
		if err != nil {
			return nil, err
		}
		st.catalog, st.collection, st.dir = cat, col, cat.Dir(col.Name)
		f.apply(col.Settings)
	} else if f.collection != catalog.Default {
		f.storage.qdrant.Alias += "-" + f.collection
	}
	rr, err := f.newReranker()
	if err == nil {
		st.reranker = rr
		st.embedder, err = f.newEmbedder(ctx, log, st.dir)
	}
	if err != nil {
		st.closeModels()
		return nil, err
	}
	emb := st.embedder
	opts := local.Options{Logger: log, Rebuild: f.rebuild, EfSearch: f.efSearch, MustExist: f.existing, BM25: st.collection.Settings.BM25, ServeAddr: f.serveAddr}
	sopts := f.search
	sopts.Reranker, sopts.Rerank.Timeout, sopts.Rerank.TopN = rr, f.rerank.Deadline(), min(sopts.Rerank.TopN, searcher.MaxRerankTopN)
	if emb != nil {
		info := emb.Model()
		opts.Vectors = local.VectorSpace{Model: info.ID(), Dim: info.Dim}
		st.indexing.Embedder = emb
		sopts.Embedder, sopts.Model = emb, info.ID()
		sopts.Fusion = searcher.FusionForModel(info.Provider == embeddings.ProviderStatic)
	}
	switch f.storage.kind {
	case "", "local":
		if st.store, err = local.Open(st.dir, opts); err == nil {
			st.index, st.storeName, st.builds, st.stored, st.gc = st.store, "local", reindex.Builds(st.store.BeginBuild), st.store, st.store.GC
		}
	case "qdrant":
		q, qo := (*qdrant.Store)(nil), f.storage.qdrant
		qo.Vectors, qo.Rebuild, qo.Logger = opts.Vectors, f.rebuild, log
		if q, err = qdrant.Open(ctx, qo); err == nil {
			st.index, st.storeName, st.builds, st.stored, st.gc = q, "qdrant", reindex.Builds(q.BeginBuild), q, q.GC
		}
	default:
		err = fmt.Errorf("--store must be local or qdrant, got %q", f.storage.kind)
	}
	if err != nil {
		st.closeModels()
		return nil, err
	}
	st.searcher = searcher.New(st.index, sopts)
	return st, nil
}

// Close closes the store, the embedder, the re-ranker and the catalog.
func (s *stack) Close() error {
	return errors.Join(s.index.Close(), s.closeModels())
}

// closeModels closes what openStack opened before the store.
func (s *stack) closeModels() error {
	var err error
	if s.embedder != nil {
		err = s.embedder.Close()
	}
	err = errors.Join(err, rerank.Close(s.reranker))
	if s.catalog != nil {
		err = errors.Join(err, s.catalog.Close())
	}
	return err
}
