// Command cari is Cari's one binary: it indexes, crawls, serves, searches
// and measures. Run "cari --help" for the commands.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/internal/buildinfo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "cari:", err)
		os.Exit(1)
	}
}

// globalFlags are the flags every command takes.
type globalFlags struct {
	logLevel  string
	logFormat string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "cari",
		Short: "Cari: a self-hosted AI search engine backend",
		Long: `Cari crawls or imports documents, keeps a BM25 keyword index (and, with an
embedding model, vectors) in a local data directory, and answers searches
over gRPC.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionText(),
	}
	root.SetVersionTemplate("{{.Version}}")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.AddCommand(
		newIndexCmd(g),
		newReindexCmd(g),
		newGCCmd(g),
		newCrawlCmd(g),
		newVerifyCmd(g),
		newRepairCmd(g),
		newEvalCmd(g),
		newServeCmd(g),
		newMCPCmd(g),
		newSearchCmd(g),
		newStatsCmd(g),
		newCollectionsCmd(g),
		newModelsCmd(g),
		newTrainRerankerCmd(g),
		newConfigCmd(),
		newBenchCmd(g),
		&cobra.Command{
			Use: "version", Short: "Print the version, commit and Go version of this build, and the default model", Args: cobra.NoArgs,
			Run: func(cmd *cobra.Command, _ []string) { fmt.Fprint(cmd.OutOrStdout(), versionText()) },
		},
	)
	return root
}

// run makes a command's RunE from a function of the process logger, which
// it builds from the global flags first.
func (g *globalFlags) run(fn func(cmd *cobra.Command, log *slog.Logger) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		log, err := g.logger()
		if err != nil {
			return err
		}
		return fn(cmd, log)
	}
}

// logger builds the process logger from the global flags. Logs go to stderr
// so that --json output on stdout stays parseable.
func (g *globalFlags) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, got %q", g.logFormat)
}

// versionText is what cari version and cari --version print.
func versionText() string {
	return buildinfo.Read().String() + "model   " + embeddings.DefaultProvider + "/" + strings.TrimSuffix(embeddings.DefaultStaticModel, ".cvec") + " (default)\n"
}
