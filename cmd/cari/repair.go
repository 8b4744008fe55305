package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/collections"
	"github.com/cari-search/cari/store/local"
)

// errDamaged makes verify exit non-zero once it has printed its report.
var errDamaged = errors.New("the index is damaged or its parts disagree: run cari repair, or reindex from the source")

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
			cat, _, dir, err := collections.Find(dataDir, collection, log)
			if err != nil {
				return err
			}
			defer cat.Close()
			return verifyDir(cmd, dir, log, asJSON)
		}),
	}
	cmd.Flags().StringVar(&dataDir, "data", defaultDataDir, "data directory")
	registerCollection(cmd.Flags(), &collection)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// verifyDir opens a collection's directory, verifies it and prints the report; it returns
// errDamaged when the report names a problem.
func verifyDir(cmd *cobra.Command, dir string, log *slog.Logger, asJSON bool) error {
	rep, err := local.VerifyDir(cmd.Context(), dir, log)
	if err != nil {
		return err
	}
	if asJSON {
		_ = rep.WriteJSON(cmd.OutOrStdout())
	} else {
		rep.WriteText(cmd.OutOrStdout())
	}
	if !rep.OK() {
		return errDamaged
	}
	return nil
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
			cat, col, dir, err := collections.Find(stackF.dataDir, stackF.collection, log)
			if err != nil {
				return err
			}
			defer cat.Close()
			o := stackF.options(log)
			o.Apply(col.Settings)
			opts := local.RepairOptions{Logger: log}
			// The model is needed only to rebuild a damaged vector log;
			// without one, Repair says so if it comes to that.
			emb, err := o.OpenEmbedder(cmd.Context(), dir)
			if err != nil {
				return err
			}
			if emb != nil {
				defer emb.Close()
				info := emb.Model()
				opts.Vectors = local.VectorSpace{Model: info.ID(), Dim: info.Dim}
				opts.Embed = emb.EmbedDocuments
			}
			done, err := local.Repair(cmd.Context(), dir, opts)
			for _, d := range done {
				fmt.Fprintln(cmd.OutOrStdout(), "repaired:", d)
			}
			if err != nil {
				return err
			}
			if len(done) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing to repair")
			}
			return verifyDir(cmd, dir, log, false)
		}),
	}
	stackF.register(cmd.Flags(), embeds)
	return cmd
}
