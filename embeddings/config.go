package embeddings

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"runtime"
	"time"
)

// Providers a Config can name.
const (
	ProviderStatic = "static"
	ProviderONNX   = "onnx"
	ProviderOpenAI = "openai"
	// ProviderNone asks NewIfAny for no embedder: keyword-only search.
	ProviderNone = "none"
)

// Defaults, in one place. Batch sizes and concurrency are per provider;
// see Config.
const (
	DefaultProvider    = ProviderStatic
	DefaultModelsDir   = "models"
	DefaultStaticModel = "glove-6b-100d.cvec"
	DefaultOpenAIURL   = "http://127.0.0.1:8000/v1"
	DefaultOpenAIModel = "Qwen/Qwen3-Embedding-0.6B"
	DefaultAPIKeyEnv   = "CARI_EMBED_API_KEY"
	// DefaultMaxBatchTokens keeps a request under TEI's default
	// --max-batch-tokens (16384) even when the estimate of 3 bytes per
	// token is optimistic.
	DefaultMaxBatchTokens = 8192
	DefaultTimeout        = 60 * time.Second
	DefaultMaxRetries     = 5
	DefaultCacheMaxBytes  = 1 << 30
)

// defaultBatchSize and defaultConcurrency per provider: static embedding
// is cheap CPU work, so big batches on every core; ONNX Runtime already
// uses every core within one call; a server batches for itself, and TEI
// refuses more than 32 inputs a request by default.
var (
	defaultBatchSize   = map[string]int{ProviderStatic: 256, ProviderONNX: 16, ProviderOpenAI: 32}
	defaultConcurrency = map[string]int{ProviderStatic: runtime.GOMAXPROCS(0), ProviderONNX: 1, ProviderOpenAI: 4}
)

// Config chooses and configures an embedding model. The zero value is the
// embedded default: the static GloVe model in ./models, no cache.
type Config struct {
	// Provider is "static" (default), "onnx" or "openai".
	Provider string
	// Model is, for static, a model file or Model2Vec directory (default
	// DefaultStaticModel); for onnx, a model directory; a relative path
	// that does not exist as given is looked up in ModelsDir. For openai it
	// is the served model's name (default DefaultOpenAIModel).
	Model string
	// ModelsDir holds models and the ONNX Runtime library (default
	// "models").
	ModelsDir string
	// ModelVersion is recorded in the openai model's fingerprint: set it
	// to the weights' revision so that an index notices a new one under
	// the same model name.
	ModelVersion string

	// Convention names the model's prompts: "auto" (default: from the
	// model name), "none", "qwen3", "e5", "bge" or "nomic". QueryPrefix and
	// DocumentPrefix, when set, replace the convention's. Task fills
	// Qwen3's query instruction (default DefaultTask).
	Convention     string
	QueryPrefix    string
	DocumentPrefix string
	Task           string

	// URL is the openai provider's base URL, up to and including /v1
	// (default DefaultOpenAIURL).
	URL string
	// APIKeyFile, or else the environment variable APIKeyEnv (default
	// CARI_EMBED_API_KEY), holds the bearer token for the server, if any.
	APIKeyFile string
	APIKeyEnv  string
	// Dimensions asks the server for vectors of this length (Matryoshka
	// models such as Qwen3-Embedding); longer vectors that come back are
	// cut to it and re-normalised. With LocalTruncate the parameter is not
	// sent, for servers that reject it, and only the local cut is made.
	Dimensions    int
	LocalTruncate bool
	// MaxBatchTokens caps the estimated tokens of one request (default
	// DefaultMaxBatchTokens).
	MaxBatchTokens int
	// Timeout bounds one request (default DefaultTimeout); MaxRetries
	// bounds the retries of a request that failed with 408, 429, 5xx or a
	// network error (default DefaultMaxRetries; negative means none).
	Timeout    time.Duration
	MaxRetries int
	// HTTPClient replaces http.DefaultClient's transport, for tests.
	HTTPClient *http.Client

	// ONNXRuntime is the path of libonnxruntime.so (default: the
	// ONNXRUNTIME_LIB environment variable, then
	// ModelsDir/onnxruntime/libonnxruntime.so.1, then the system's).
	ONNXRuntime string
	// MaxTokens truncates onnx inputs (default: the model's
	// max_seq_length, or 512). Threads caps ONNX Runtime's threads
	// (default: its own choice, one per core).
	MaxTokens int
	Threads   int

	// BatchSize is the number of texts per provider call; Concurrency the
	// number of calls in flight. Defaults: static 256 on every core, onnx
	// 16 one at a time, openai 32 four at a time.
	BatchSize   int
	Concurrency int

	// CacheDir, when set, keeps document and query vectors in a bbolt file
	// there (e.g. DATA/embcache), keyed by model, side and text, so that
	// reindexing unchanged text costs no model calls. Worth it for onnx and
	// openai; static embedding is about as fast as a cache lookup.
	// CacheMaxBytes bounds the vectors it holds (default 1 GiB); the
	// oldest are evicted first.
	CacheDir      string
	CacheMaxBytes int64

	// SimilarityFloor is the cosine similarity a passage must exceed to
	// count as evidence of relevance in a hybrid search when none of the
	// query's terms matches it (Provider.SimilarityFloor). 0 takes the
	// model's calibrated floor (CalibratedFloor), or 0 for a model with
	// none; negative turns the floor off, so that every nearest neighbour
	// counts.
	SimilarityFloor float64

	// Logger receives retries and cache problems; nil discards them.
	Logger *slog.Logger
}

// withDefaults returns c with every unset field at its default.
func (c Config) withDefaults() Config {
	if c.Provider == "" {
		c.Provider = DefaultProvider
	}
	if c.ModelsDir == "" {
		c.ModelsDir = DefaultModelsDir
	}
	if c.Model == "" {
		switch c.Provider {
		case ProviderStatic:
			c.Model = DefaultStaticModel
		case ProviderOpenAI:
			c.Model = DefaultOpenAIModel
		}
	}
	if c.URL == "" {
		c.URL = DefaultOpenAIURL
	}
	if c.APIKeyEnv == "" {
		c.APIKeyEnv = DefaultAPIKeyEnv
	}
	if c.MaxBatchTokens <= 0 {
		c.MaxBatchTokens = DefaultMaxBatchTokens
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.BatchSize <= 0 {
		c.BatchSize = defaultBatchSize[c.Provider]
	}
	if c.Concurrency <= 0 {
		c.Concurrency = defaultConcurrency[c.Provider]
	}
	if c.CacheMaxBytes <= 0 {
		c.CacheMaxBytes = DefaultCacheMaxBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// validate reports settings that cannot work.
func (c Config) validate() error {
	switch c.Provider {
	case ProviderStatic, ProviderONNX, ProviderOpenAI:
	default:
		return fmt.Errorf("embedder %q: want static, onnx or openai", c.Provider)
	}
	if c.Provider == ProviderONNX && c.Model == "" {
		return fmt.Errorf("the onnx embedder needs a model directory (--embed-model)")
	}
	if c.Dimensions < 0 {
		return fmt.Errorf("dimensions %d", c.Dimensions)
	}
	if c.SimilarityFloor >= 1 || math.IsNaN(c.SimilarityFloor) {
		return fmt.Errorf("similarity floor %v: want a cosine similarity below 1 (0: the model's calibrated floor; negative: none)", c.SimilarityFloor)
	}
	return nil
}

// modelPath resolves a model path: as given when it exists, else inside
// the models directory.
func (c Config) modelPath() string {
	if filepath.IsAbs(c.Model) || exists(c.Model) {
		return c.Model
	}
	return filepath.Join(c.ModelsDir, c.Model)
}

// prompts resolves the configured prompts.
func (c Config) prompts() (Prompts, error) {
	convention := c.Convention
	if c.Provider == ProviderStatic && (convention == "" || convention == ConventionAuto) {
		// Prompts would only add words to a bag-of-words average.
		convention = ConventionNone
	}
	p, err := PromptsFor(convention, c.Model, c.Task)
	if err != nil {
		return p, err
	}
	if c.QueryPrefix != "" {
		p.Query = c.QueryPrefix
	}
	if c.DocumentPrefix != "" {
		p.Document = c.DocumentPrefix
	}
	return p, nil
}
