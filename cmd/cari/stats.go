package main

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/client"
	"github.com/cari-search/cari/collections"
	"github.com/cari-search/cari/internal/dirlock"
	"github.com/cari-search/cari/server"
)

func newStatsCmd(g *globalFlags) *cobra.Command {
	var dataDir, collection, apiKeyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Print the size of the index in a data directory (asking the cari serve that holds it, if one does)",
		Args:  cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
			st, err := collections.Stats(cmd.Context(), dataDir, collection, log)
			if h, ok := dirlock.ServerOf(dataDir, err); ok {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s is held by cari serve (pid %d): these figures come from the server at %s\n", dataDir, h.PID, h.Addr)
				resp, aerr := client.AskStats(cmd.Context(), h.Addr, collection, client.Options{APIKeyFile: apiKeyFile})
				st, err = server.StatsOf(resp), aerr
			}
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(st)
			}
			return st.WriteText(cmd.OutOrStdout())
		}),
	}
	cmd.Flags().StringVar(&dataDir, "data", defaultDataDir, "data directory")
	registerCollection(cmd.Flags(), &collection)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&apiKeyFile, "api-key-file", "", "file holding the API key to send to a server holding --data (default: $"+client.DefaultAPIKeyEnv+", if set)")
	return cmd
}
