package main

import (
	"encoding/json"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/store/local"
)

func newStatsCmd(g *globalFlags) *cobra.Command {
	var dataDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Print the size of the index in a data directory",
		Args:  cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
			store, err := local.Open(dataDir, local.Options{Logger: log, MustExist: true})
			if err != nil {
				return err
			}
			defer store.Close()
			st, err := store.Stats(cmd.Context())
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
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
