package rerank

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cari-search/cari/embeddings/onnx"
	"github.com/cari-search/cari/searcher"
)

// The re-rankers New builds, by Config.Kind.
const (
	// KindLearned is the in-process learned re-ranker, the default.
	KindLearned = "learned"
	// KindChat judges each candidate yes/no on a chat server (Qwen3-Reranker's way).
	KindChat = "chat"
	// KindListwise orders windows of candidates on a chat server (RankGPT's way).
	KindListwise = "listwise"
	// KindRerankAPI calls a /v1/rerank server (vLLM, llama.cpp, Infinity).
	KindRerankAPI = "rerank-api"
	// KindTEI calls Hugging Face TEI's /rerank.
	KindTEI = "tei"
	// KindONNX is a cross-encoder exported to ONNX, run in-process.
	KindONNX = "onnx"
	// KindNone turns re-ranking off.
	KindNone = "none"
)

// ListwiseTimeout is the default re-ranking deadline of the listwise
// re-ranker, whose windows are generations run one after another; the
// others take the searcher's (searcher.DefaultRerank.Timeout).
const ListwiseTimeout = 15 * time.Second

// Config chooses a re-ranker and its settings, so that every command and
// server builds one the same way. DefaultConfig holds the defaults; zero
// numbers take each re-ranker's own.
type Config struct {
	// Kind is one of the Kind constants; "" is none.
	Kind string
	// Model is the learned re-ranker's model file ("": the built-in one)
	// or the ONNX cross-encoder's directory, a path or a name in ModelsDir.
	Model string
	// ModelsDir holds ONNX models and the ONNX Runtime library.
	ModelsDir string

	// The model-server re-rankers (chat, listwise, rerank-api, tei).
	URL string
	// ServedModel is the model name the server serves.
	ServedModel string
	// APIKeyFile holds the server's API key ("": $DefaultAPIKeyEnv).
	APIKeyFile string
	// Instruction is the task instruction of Qwen3-Reranker's prompt.
	Instruction string
	// Prompts is PromptsAuto, PromptsNone or PromptsQwen3 (rerank-api, tei).
	Prompts string
	// Timeout is one query's re-ranking deadline (0: Deadline's default).
	Timeout time.Duration
	// Concurrency caps the requests in flight for one query.
	Concurrency int
	// MaxTokens is the ONNX cross-encoder's pair length.
	MaxTokens int
	// Logger receives the clients' retries and warnings; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig is the configuration a command starts from.
func DefaultConfig() Config {
	return Config{Kind: KindLearned, URL: DefaultURL, ServedModel: DefaultModel, Instruction: DefaultInstruction, Prompts: PromptsAuto}
}

// Deadline is one query's re-ranking deadline: Timeout, else
// ListwiseTimeout for the listwise re-ranker, else Timeout as it is (the
// searcher's default).
func (c Config) Deadline() time.Duration {
	if c.Timeout <= 0 && c.Kind == KindListwise {
		return ListwiseTimeout
	}
	return c.Timeout
}

// Close releases a re-ranker New built that holds resources (the ONNX
// cross-encoder's session); nil and the others need nothing.
func Close(rr searcher.Reranker) error {
	if c, ok := rr.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Check is the start-up test of a re-ranker New built that talks to a
// model server: the chat re-ranker refuses a server whose answers carry
// no logprobs (ErrNoLogprobs), rerank-api and tei settle their prompts
// from the model the server says it serves. Nil and the in-process
// re-rankers need none. A server should refuse to start on its error
// rather than answer every query in first-stage order.
func Check(ctx context.Context, rr searcher.Reranker) error {
	if c, ok := rr.(interface{ Check(context.Context) error }); ok {
		return c.Check(ctx)
	}
	return nil
}

// New builds the configured re-ranker; nil means none. Errors name the
// command-line flag of the setting at fault.
func New(c Config) (searcher.Reranker, error) {
	switch c.Kind {
	case KindNone, "":
		return nil, nil
	case KindLearned:
		m, err := LoadModel(c.Model)
		if err != nil {
			return nil, fmt.Errorf("--reranker-model: %w", err)
		}
		return NewLearned(m), nil
	case KindONNX:
		return c.newONNX()
	case KindChat, KindListwise, KindRerankAPI, KindTEI:
		rr, err := c.newRemote()
		if err != nil {
			return nil, err
		}
		return rr, nil
	}
	return nil, fmt.Errorf("--reranker must be learned, chat, listwise, rerank-api, tei, onnx or none, got %q", c.Kind)
}

// newRemote builds a model-server re-ranker.
func (c Config) newRemote() (searcher.Reranker, error) {
	key, err := LoadAPIKey(c.APIKeyFile, "")
	if err != nil {
		return nil, fmt.Errorf("--rerank-api-key-file: %w", err)
	}
	// One attempt may take the whole budget; retries happen within it
	// only when an attempt fails sooner.
	srv := Server{URL: c.URL, Model: c.ServedModel, APIKey: key, Timeout: c.Deadline(), Logger: c.Logger}
	var rr searcher.Reranker
	switch c.Kind {
	case KindChat:
		rr, err = NewChat(ChatOptions{Server: srv, Instruction: c.Instruction, Concurrency: c.Concurrency})
	case KindListwise:
		rr, err = NewListwise(ListwiseOptions{Server: srv})
	case KindRerankAPI:
		rr, err = NewRerankAPI(RerankAPIOptions{Server: srv, Prompts: c.Prompts, Instruction: c.Instruction, Concurrency: c.Concurrency})
	case KindTEI:
		rr, err = NewRerankAPI(RerankAPIOptions{Server: srv, Format: FormatTEI, Prompts: c.Prompts, Instruction: c.Instruction, Concurrency: c.Concurrency})
	}
	if err != nil {
		return nil, fmt.Errorf("--reranker %s: %w", c.Kind, err)
	}
	return rr, nil
}

// newONNX loads the cross-encoder Model names: a directory, or one in the
// models directory, with the ONNX Runtime library the onnx embedder would
// use.
func (c Config) newONNX() (searcher.Reranker, error) {
	dir := c.Model
	if dir == "" {
		return nil, errors.New("--reranker onnx needs --reranker-model: a cross-encoder exported to ONNX (docs/RERANKING.md)")
	}
	if _, err := os.Stat(dir); err != nil && !filepath.IsAbs(dir) {
		dir = filepath.Join(c.ModelsDir, dir)
	}
	r, err := NewONNX(ONNXOptions{Dir: dir, Library: onnx.RuntimeLibrary(c.ModelsDir), MaxTokens: c.MaxTokens})
	if err != nil {
		return nil, fmt.Errorf("--reranker onnx: %w", err)
	}
	return r, nil
}
