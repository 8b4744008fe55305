package main

// Configuration of cari serve: every setting is a flag, and a YAML config
// file and CARI_* environment variables only supply values for flags not
// given on the command line (package flagconfig). Flags that stack.go
// registers (--data, the model flags) join it without further wiring.

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/client"
	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/internal/flagconfig"
	"github.com/cari-search/cari/searcher/rerank"
	"github.com/cari-search/cari/server/exa"
	"github.com/cari-search/cari/store/qdrant"
)

const (
	// envPrefix starts every configuration environment variable.
	envPrefix = "CARI_"
	// configEnv names the config file when --config is not given.
	configEnv = "CARI_CONFIG"
)

// apiKeyEnvs are the variables holding API keys, read from the environment
// by the clients themselves, never through a flag, so that they stay out
// of process listings.
var apiKeyEnvs = []string{embeddings.DefaultAPIKeyEnv, rerank.DefaultAPIKeyEnv, exa.DefaultAnswerAPIKeyEnv, client.DefaultAPIKeyEnv, qdrant.DefaultAPIKeyEnv}

// configuration is how cari serve's flags are named in the file and the
// environment.
var configuration = flagconfig.Loader{
	Prefix:       envPrefix,
	FileFlag:     "config",
	FileEnv:      configEnv,
	KnownEnv:     apiKeyEnvs,
	PrintCommand: "cari config print",
}

// envName is the environment variable that sets flag name.
func envName(name string) string { return configuration.EnvName(name) }

// newConfigCmd is `cari config`, with `print`.
func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show cari serve's configuration",
	}
	var sf serveFlags
	print := &cobra.Command{
		Use:   "print [serve flags]",
		Short: "Print the effective configuration of cari serve, secrets masked",
		Long: `Print resolves cari serve's configuration as serve would, from the same
flags, CARI_* environment variables and config file (--config or
CARI_CONFIG), and prints it as YAML: a valid config file, each setting
with its help and where its value came from. API keys and other secrets
are masked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := configuration.Load(cmd.Flags(), os.Environ())
			if err != nil {
				return err
			}
			return cfg.Print(cmd.OutOrStdout(), cmd.Flags(), "cari serve")
		},
	}
	sf.register(print.Flags())
	cmd.AddCommand(print)
	return cmd
}
