package embeddings

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
)

// side says which side of retrieval a text is on; it is part of a cached
// vector's key.
type side byte

const (
	sideDocument side = 'd'
	sideQuery    side = 'q'
)

// encodeFunc embeds one batch of texts, prompts already applied.
type encodeFunc func(ctx context.Context, texts []string) ([][]float32, error)

// Provider is an embedding model configured by New. Documents and queries
// are embedded separately because many models expect a different prompt on
// each side. Vectors are unit length (cosine similarity is their dot
// product), except that a text with nothing the model can represent may
// get the zero vector. It is safe for concurrent use; Close releases it.
type Provider struct {
	info        ModelInfo
	prompts     Prompts
	encode      encodeFunc
	closeModel  func() error
	batchSize   int
	concurrency int
	cache       *cache // nil without Config.CacheDir
	log         *slog.Logger
	floor       float64
}

// New loads or connects to the model cfg names. For openai it sends one
// request to learn the vectors' dimension, so the server must be up.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	prompts, err := cfg.prompts()
	if err != nil {
		return nil, err
	}
	var p *Provider
	switch cfg.Provider {
	case ProviderStatic:
		p, err = newStatic(cfg)
	case ProviderONNX:
		p, err = newONNX(cfg)
	case ProviderOpenAI:
		p, err = newOpenAI(ctx, cfg, prompts)
	}
	if err != nil {
		return nil, err
	}
	p.prompts = prompts
	p.batchSize, p.concurrency, p.log = cfg.BatchSize, cfg.Concurrency, cfg.Logger
	p.info.Version = version(p.info.Version, prompts.Document, p.info.Dim)
	p.floor = similarityFloor(cfg, p.info)
	if cfg.CacheDir != "" {
		if p.cache, err = openCache(cfg.CacheDir, p.info, cfg.CacheMaxBytes); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// NewIfAny is New for a command that can search keyword-only: it returns
// no embedder (nil) for ProviderNone and, unless the caller named the model
// (named), when the model's files are missing, as the default static
// model's are on a fresh checkout before "make models": a warning then
// says how to fetch it. A model the caller named must load.
func NewIfAny(ctx context.Context, cfg Config, named bool) (*Provider, error) {
	return newIfAny(ctx, cfg, named, New)
}

// newIfAny is NewIfAny loading the model with load.
func newIfAny(ctx context.Context, cfg Config, named bool, load func(context.Context, Config) (*Provider, error)) (*Provider, error) {
	if cfg.Provider == ProviderNone {
		return nil, nil
	}
	p, err := load(ctx, cfg)
	if err != nil && !named && errors.Is(err, os.ErrNotExist) {
		if cfg.Logger != nil {
			cfg.Logger.Warn("no embedding model: keyword search only (fetch the default model with \"make models\", or pass --embedder none to silence this)", "error", err)
		}
		return nil, nil
	}
	return p, err
}

// version is the short fingerprint of what shapes document vectors: the
// provider's fingerprint (of weights, or of a server's model), the
// document prompt and the dimension.
func version(fingerprint, documentPrompt string, dim int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d", fingerprint, documentPrompt, dim))
	return hex.EncodeToString(sum[:8])
}

// EmbedDocuments embeds texts as documents, in batches, with at most
// Config.Concurrency batches in flight. It stops at the first error or
// when ctx is done.
func (p *Provider) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	return p.embed(ctx, sideDocument, p.prompts.Document, texts)
}

// EmbedQuery embeds text as a search query.
func (p *Provider) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	vecs, err := p.embed(ctx, sideQuery, p.prompts.Query, []string{text})
	if err != nil {
		return nil, err
	}
	return vecs[0], nil
}

// Dim is the length of the vectors.
func (p *Provider) Dim() int { return p.info.Dim }

// Model identifies the model and settings.
func (p *Provider) Model() ModelInfo { return p.info }

// Prompts are the query and document prompts in use.
func (p *Provider) Prompts() Prompts { return p.prompts }

// Close releases the model and the cache.
func (p *Provider) Close() error {
	var errs []error
	if p.closeModel != nil {
		errs = append(errs, p.closeModel())
	}
	if p.cache != nil {
		errs = append(errs, p.cache.close())
	}
	return errors.Join(errs...)
}

func (p *Provider) embed(ctx context.Context, s side, prompt string, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	inputs := make([]string, len(texts))
	for i, t := range texts {
		inputs[i] = prompt + t
	}
	out := make([][]float32, len(inputs))
	missing := make([]int, 0, len(inputs))
	if p.cache != nil {
		missing = p.cache.get(s, inputs, out)
	} else {
		for i := range inputs {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	todo := make([]string, len(missing))
	for j, i := range missing {
		todo[j] = inputs[i]
	}
	vecs, err := p.runBatches(ctx, todo)
	if err != nil {
		return nil, err
	}
	for j, i := range missing {
		out[i] = vecs[j]
	}
	if p.cache != nil {
		if err := p.cache.put(s, todo, vecs); err != nil {
			p.log.Warn("embedding cache: store failed; continuing without it", "err", err)
		}
	}
	return out, nil
}

// runBatches embeds texts in batches of p.batchSize, p.concurrency at a
// time, checks their dimension and scales them to unit length.
func (p *Provider) runBatches(ctx context.Context, texts []string) ([][]float32, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([][]float32, len(texts))
	sem := make(chan struct{}, p.concurrency)
	var wg sync.WaitGroup
	for start := 0; start < len(texts); start += p.batchSize {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		end := min(start+p.batchSize, len(texts))
		wg.Go(func() {
			defer func() { <-sem }()
			if err := p.runBatch(ctx, texts[start:end], out[start:end]); err != nil {
				cancel(fmt.Errorf("embed texts %d-%d: %w", start, end-1, err))
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

func (p *Provider) runBatch(ctx context.Context, texts []string, out [][]float32) error {
	vecs, err := p.encode(ctx, texts)
	if err != nil {
		return err
	}
	if len(vecs) != len(texts) {
		return fmt.Errorf("model returned %d vectors for %d texts", len(vecs), len(texts))
	}
	for i, v := range vecs {
		if len(v) != p.info.Dim {
			return fmt.Errorf("model returned a vector of %d dimensions, want %d", len(v), p.info.Dim)
		}
		if err := normalize(v); err != nil {
			return err
		}
		out[i] = v
	}
	return nil
}

// normalize scales v to unit length in place; the zero vector stays zero.
func normalize(v []float32) error {
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return errors.New("model returned a vector with NaN or infinite values")
	}
	if norm == 0 {
		return nil
	}
	inv := 1 / math.Sqrt(norm)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
