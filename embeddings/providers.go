package embeddings

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cari-search/cari/embeddings/onnx"
	"github.com/cari-search/cari/embeddings/openai"
	"github.com/cari-search/cari/embeddings/static"
	"github.com/cari-search/cari/internal/modelhttp"
)

// newStatic loads a static model file or Model2Vec directory.
func newStatic(cfg Config) (*Provider, error) {
	path := cfg.modelPath()
	m, err := static.Load(path)
	if errors.Is(err, os.ErrNotExist) && cfg.Model == DefaultStaticModel {
		return nil, fmt.Errorf("%w (fetch and import the default model with \"make models\")", err)
	}
	if err != nil {
		return nil, err
	}
	encode := func(ctx context.Context, texts []string) ([][]float32, error) {
		out := make([][]float32, len(texts))
		for i, t := range texts {
			if i%64 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			out[i] = m.Embed(t)
		}
		return out, nil
	}
	return &Provider{
		info:   ModelInfo{Provider: ProviderStatic, Name: m.Name(), Version: m.Fingerprint(), Dim: m.Dim()},
		encode: encode,
	}, nil
}

// newONNX loads an ONNX model directory into ONNX Runtime.
func newONNX(cfg Config) (*Provider, error) {
	dir := cfg.modelPath()
	m, err := onnx.Load(onnx.Options{
		Dir:       dir,
		Library:   onnxRuntimePath(cfg),
		MaxTokens: cfg.MaxTokens,
		Threads:   cfg.Threads,
	})
	if err != nil {
		return nil, err
	}
	return &Provider{
		info:       ModelInfo{Provider: ProviderONNX, Name: filepath.Base(filepath.Clean(dir)), Version: m.Fingerprint(), Dim: m.Dim()},
		encode:     m.Embed,
		closeModel: m.Close,
	}, nil
}

// onnxRuntimePath finds libonnxruntime.so: configured, from the
// environment, fetched into the models directory by make models, or ""
// for the system's dynamic linker to find.
func onnxRuntimePath(cfg Config) string {
	if cfg.ONNXRuntime != "" {
		return cfg.ONNXRuntime
	}
	return onnx.RuntimeLibrary(cfg.ModelsDir)
}

// newOpenAI connects to an OpenAI-compatible server and learns the
// dimension from one request.
func newOpenAI(ctx context.Context, cfg Config, prompts Prompts) (*Provider, error) {
	key, err := apiKey(cfg)
	if err != nil {
		return nil, err
	}
	c, err := openai.New(openai.Options{
		BaseURL:        cfg.URL,
		Model:          cfg.Model,
		APIKey:         key,
		Dimensions:     cfg.Dimensions,
		LocalTruncate:  cfg.LocalTruncate,
		MaxBatchSize:   cfg.BatchSize,
		MaxBatchTokens: cfg.MaxBatchTokens,
		Timeout:        cfg.Timeout,
		MaxRetries:     cfg.MaxRetries,
		HTTPClient:     cfg.HTTPClient,
		Logger:         cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	probe, err := c.Embed(ctx, []string{prompts.Query + "dimension probe"})
	if err != nil {
		return nil, fmt.Errorf("embedding server %s, model %s: %w", cfg.URL, cfg.Model, err)
	}
	fingerprint := fmt.Sprintf("%s\x00%d\x00%s", cfg.Model, cfg.Dimensions, cfg.ModelVersion)
	return &Provider{
		info:   ModelInfo{Provider: ProviderOpenAI, Name: cfg.Model, Version: fingerprint, Dim: len(probe[0])},
		encode: c.Embed,
	}, nil
}

// apiKey reads the API key from Config.APIKeyFile or the environment.
func apiKey(cfg Config) (string, error) {
	key, err := modelhttp.LoadAPIKey(cfg.APIKeyFile, cfg.APIKeyEnv)
	if err != nil {
		return "", fmt.Errorf("embedding API key: %w", err)
	}
	return key, nil
}
