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

// openCollection opens dataDir's catalog and the collection name; unless
// existing (the commands that only read), a missing one is created with s.
func openCollection(dataDir, name string, existing bool, s catalog.Settings, log *slog.Logger) (*catalog.Catalog, catalog.Collection, error) {
	cat, err := catalog.Open(dataDir, catalog.Options{MustExist: existing, Logger: log, Holder: local.Holder{PID: os.Getpid()}})
	if err != nil {
		return nil, catalog.Collection{}, err
	}
	col, err := cat.Ensure(name, !existing, s)
	if err != nil {
		cat.Close()
		return nil, col, err
	}
	return cat, col, nil
}

func (f *stackFlags) changed(flag string) bool { return f.fs != nil && f.fs.Changed(flag) }

// createSettings are the settings a collection created by this command
// records: the models its flags name (the rest follow the process).
func (f *stackFlags) createSettings() catalog.Settings {
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

// apply takes the collection's settings for the models the flags leave
// at their defaults: a flag given on the command line wins.
func (f *stackFlags) apply(s catalog.Settings) {
	f.settings = s
	for flag, set := range map[string]struct{ to, from *string }{
		"embedder": {&f.embed.Provider, &s.Embedder}, "embed-model": {&f.embed.Model, &s.EmbedModel}, "reranker": {&f.rerank.Kind, &s.Reranker},
	} {
		if *set.from != "" && !f.changed(flag) && f.fs != nil && f.fs.Lookup(flag) != nil {
			*set.to = *set.from
		}
	}
}

// collectionDir opens dataDir's catalog, which must hold an index, and
// returns the directory of the collection name, for the commands that open
// its store themselves; the catalog holds the data directory until closed.
func collectionDir(dataDir, name string, log *slog.Logger) (*catalog.Catalog, catalog.Collection, string, error) {
	cat, col, err := openCollection(dataDir, name, true, catalog.Settings{}, log)
	if err != nil {
		return nil, col, "", err
	}
	return cat, col, cat.Dir(col.Name), nil
}
