package main

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/collections"
)

func newVerifyCmd(g *globalFlags) *cobra.Command {
	var dataDir, collection string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that a data directory is whole and its keyword index, vectors and stored documents agree",
		Long: `Verify opens a data directory as cari serve would (which detects damaged
files and cuts off a batch that never committed), then checks every keyword
segment's checksum, every stored document and its passages, the corpus
statistics, and the committed vector log against the stored passages. It
exits 1 when it finds a problem, naming the file at fault. Nothing is changed
beyond what opening does.`,
		Args: cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
			return collections.Verify(cmd.Context(), dataDir, collection, log, cmd.OutOrStdout(), asJSON)
		}),
	}
	cmd.Flags().StringVar(&dataDir, "data", defaultDataDir, "data directory")
	registerCollection(cmd.Flags(), &collection)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func newRepairCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	cmd := &cobra.Command{
		Use:   "repair",
		Short: "Repair a data directory after damage, then verify it",
		Long: `Repair fixes what can be fixed without the source documents: a damaged
CURRENT is pointed at the newest whole generation, a damaged vector index
snapshot is removed (it is rebuilt from the vector log), and a damaged or
truncated vector log is rebuilt by embedding the stored passages again with
the configured embedding model (the one the index was built with). A damaged
keyword index or manifest holds the documents themselves: repair says so,
and the way back is to reindex from the source. The server must be stopped.`,
		Args: cobra.NoArgs,
		RunE: g.run(func(cmd *cobra.Command, log *slog.Logger) error {
			return collections.Repair(cmd.Context(), stackF.options(log), cmd.OutOrStdout())
		}),
	}
	stackF.register(cmd.Flags(), embeds)
	return cmd
}
