package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/client"
	"github.com/cari-search/cari/internal/buildinfo"
	"github.com/cari-search/cari/internal/modelhttp"
	"github.com/cari-search/cari/server/mcp"
	"github.com/cari-search/cari/store/catalog"
)

func newMCPCmd(g *globalFlags) *cobra.Command {
	var f serveFlags
	var serverURL, apiKeyFile string
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve Cari's search tools to an AI agent over MCP on stdin and stdout",
		Long: `Mcp speaks the Model Context Protocol on stdin and stdout, for an agent
(Claude Desktop, Cursor, an open-model agent) that starts it as a
subprocess: tools search, contents, find_similar, answer (each in the
collection it names), collections and crawl, and the collections as
resources. It searches the data directory (--data, with serve's flags for
models, answers and crawls: there crawl writes into the directory as cari
crawl would), or a running cari serve (--server http://HOST:PORT, its HTTP
port; the key from --api-key-file or CARI_API_KEY; crawl needs an admin
key). cari serve itself serves the same tools over streamable HTTP at /mcp.
See docs/AGENTS.md.`,
		Args: cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
			opts := mcp.Options{BaseURL: serverURL, Version: buildinfo.Read().Version, Logger: log}
			if serverURL != "" {
				key, err := modelhttp.LoadAPIKey(apiKeyFile, client.DefaultAPIKeyEnv)
				if err != nil {
					return err
				}
				opts.APIKey = key
			} else {
				if _, err := configuration.Load(cmd.Flags(), os.Environ()); err != nil {
					return err
				}
				if f.stack.storage.kind == "local" && !catalog.HasIndex(f.stack.dataDir) {
					return fmt.Errorf("--data %s: no index there; fill it with cari index or cari crawl, or give --server", f.stack.dataDir)
				}
				srv, st, err := newServer(cmd.Context(), &f, nil, log)
				if err != nil {
					return err
				}
				defer st.Close()
				defer shutdownWithin(srv.Shutdown, 5*time.Second)
				opts.Exa = srv.Handler()
			}
			m, err := mcp.New(opts)
			if err != nil {
				return err
			}
			return m.RunStdio(cmd.Context())
		}),
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVar(&serverURL, "server", "", "HTTP address of a running cari serve (http://HOST:PORT) to search instead of --data")
	cmd.Flags().StringVar(&apiKeyFile, "api-key-file", "", "file holding the API key for --server (default: $"+client.DefaultAPIKeyEnv+")")
	return cmd
}

// shutdownWithin stops a server, waiting at most d for calls in flight.
func shutdownWithin(shutdown func(context.Context) error, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_ = shutdown(ctx)
}
