package main

import (
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
)

func registerCollection(fs *pflag.FlagSet, name *string) {
	fs.StringVar(name, "collection", catalog.Default, "collection (or alias) in the data directory; the commands that write create it on first use, with the settings their flags name")
}

func (f *stackFlags) changed(flag string) bool { return f.fs != nil && f.fs.Changed(flag) }

// given are the settings the command's flags name: they win over the
// collection's, and a collection the command creates records them.
func (f *stackFlags) given() catalog.Settings {
	var s catalog.Settings
	if f.changed("embedder") {
		s.Embedder = f.embed.Provider
	}
	if f.changed("embed-model") {
		s.EmbedModel = f.embed.Model
	}
	if f.changed("reranker") {
		s.Reranker = f.rerank.Kind
	}
	return s
}

// collectionDir opens dataDir's catalog, which must hold an index, and
// returns the directory of the collection name, for the commands that open
// its store themselves; the catalog holds the data directory until closed.
func collectionDir(dataDir, name string, log *slog.Logger) (*catalog.Catalog, catalog.Collection, string, error) {
	cat, err := catalog.Open(dataDir, catalog.Options{MustExist: true, Logger: log, Holder: local.Holder{PID: os.Getpid()}})
	if err != nil {
		return nil, catalog.Collection{}, "", err
	}
	col, err := cat.Resolve(name)
	if err != nil {
		cat.Close()
		return nil, col, "", err
	}
	return cat, col, cat.Dir(col.Name), nil
}
