package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cari-search/cari/collections"
	"github.com/cari-search/cari/store/catalog"
)

func registerCollection(fs *pflag.FlagSet, name *string) {
	fs.StringVar(name, "collection", catalog.Default, "collection (or alias) in the data directory; the commands that write create it on first use, with the settings their flags name")
}

func (f *stackFlags) changed(flag string) bool { return f.fs != nil && f.fs.Changed(flag) }

// newCollectionsCmd is cari collections: list, create, delete, alias.
func newCollectionsCmd(g *globalFlags) *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "collections",
		Short: "List, create and delete a data directory's collections, and point aliases at them",
		Long: `A data directory holds named collections, each with its own documents,
generations and settings; "default" always exists. An alias names a
collection wherever a collection name goes, and moves atomically: index a
new collection, then point the alias the clients use at it (blue-green).
The server must be stopped (it holds the data directory); a running server
takes the same changes over its API.`,
	}
	cmd.PersistentFlags().StringVar(&dataDir, "data", defaultDataDir, "data directory")
	// with opens the catalog (creating one unless existing) and runs fn.
	with := func(existing bool, fn func(cmd *cobra.Command, cat *catalog.Catalog, args []string) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			cat, err := collections.OpenCatalog(dataDir, existing, log)
			if err != nil {
				return err
			}
			defer cat.Close()
			return fn(cmd, cat, args)
		}
	}
	var asJSON bool
	list := &cobra.Command{Use: "list", Short: "List the collections and their aliases", Args: cobra.NoArgs,
		RunE: with(true, func(cmd *cobra.Command, cat *catalog.Catalog, _ []string) error {
			if asJSON {
				return cat.Listing().WriteJSON(cmd.OutOrStdout())
			}
			return cat.Listing().WriteText(cmd.OutOrStdout())
		})}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var s catalog.Settings
	create := &cobra.Command{Use: "create NAME", Short: "Create an empty collection with its settings", Args: cobra.ExactArgs(1),
		RunE: with(false, func(cmd *cobra.Command, cat *catalog.Catalog, args []string) error {
			_, err := cat.Create(args[0], s)
			return err
		})}
	fs := create.Flags()
	fs.StringVar(&s.Embedder, "embedder", "", "embedding provider of its vectors: static, onnx, openai, or none for keyword only (default: the process's --embedder)")
	fs.StringVar(&s.EmbedModel, "embed-model", "", "embedding model (default: the process's --embed-model)")
	fs.StringVar(&s.Reranker, "reranker", "", "re-ranker, as cari serve's --reranker (default: the process's)")
	fs.StringVar(&s.Language, "language", "", "language (BCP 47 tag) of the documents that name none; they skip detection")
	fs.Float64Var(&s.BM25.K1, "bm25-k1", 0, "BM25 k1 (default 1.2, with --bm25-b)")
	fs.Float64Var(&s.BM25.B, "bm25-b", 0, "BM25 b (default 0.75, with --bm25-k1)")
	fs.StringVar(&s.URLTemplate, "url-template", "", "URL of a result whose document has none, {id} replaced by its ID (https://example.org/docs/{id})")
	fs.Int64Var(&s.Limits.MaxDocuments, "max-documents", 0, "most documents the collection may hold; an upsert past it fails (0: unbounded)")
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a collection and its documents", Args: cobra.ExactArgs(1),
		RunE: with(true, func(_ *cobra.Command, cat *catalog.Catalog, args []string) error { return cat.Delete(args[0]) })}
	var unalias []string
	alias := &cobra.Command{Use: "alias ALIAS COLLECTION [ALIAS COLLECTION...]", Short: "Point aliases at collections, all in one atomic change", Args: cobra.MinimumNArgs(0),
		RunE: with(true, func(_ *cobra.Command, cat *catalog.Catalog, args []string) error {
			actions, err := catalog.AliasActions(args, unalias)
			if err != nil {
				return err
			}
			return cat.UpdateAliases(actions)
		})}
	alias.Flags().StringSliceVar(&unalias, "delete", nil, "aliases to remove in the same change")
	cmd.AddCommand(list, create, del, alias)
	return cmd
}
