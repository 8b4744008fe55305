package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/cari-search/cari/collections"
	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/searcher/rerank"
	"github.com/cari-search/cari/store/local"
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
	// parts are the stack's parts the command takes (register's).
	parts stackParts
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
	// models shares loaded embedding models between the collections
	// cari serve opens (nil: none shared).
	models *embeddings.Shared
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
	f.fs, f.parts = fs, parts
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

// stack is the collection with the models wired to it: what cari index,
// eval and serve share, so each command builds it the same way.
type stack = collections.Collection

// openStack opens the collection the flags name with the configured models.
func openStack(ctx context.Context, f stackFlags, log *slog.Logger) (*stack, error) {
	if f.changed("ef-search") && f.storage.kind == "qdrant" {
		return nil, errors.New("--ef-search sets the local store's vector index; with --store qdrant, Qdrant searches with its collection's own settings")
	}
	if f.changed("max-query-chars") && f.search.MaxQueryChars < 1 {
		return nil, fmt.Errorf("--max-query-chars: must be at least 1, got %d", f.search.MaxQueryChars)
	}
	return collections.Open(ctx, f.options(log))
}

// options are the collections options the flags bind.
func (f *stackFlags) options(log *slog.Logger) collections.Options {
	return collections.Options{
		DataDir: f.dataDir, Name: f.collection, Store: f.storage.kind, Qdrant: f.storage.qdrant,
		Embed: f.embed, Rerank: f.rerank, Embeds: f.parts&embeds != 0, Reranks: f.parts&reranks != 0, Given: collections.Given(f.changed, f.embed, f.rerank),
		Search: f.search, EfSearch: f.efSearch, Rebuild: f.rebuild, EmbedCache: f.embedCache, MustExist: f.existing, Logger: log,
		ServeAddr: f.serveAddr, Models: f.models,
	}
}
