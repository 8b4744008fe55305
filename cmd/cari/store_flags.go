package main

import (
	"github.com/spf13/pflag"

	"github.com/cari-search/cari/store/qdrant"
)

// storeFlags choose the store: the local data directory (default) or a
// Qdrant cluster. Only serve, index, crawl and eval register them; every other
// command works on the local store.
type storeFlags struct {
	kind string
	// qdrant is the Qdrant store's options but for the vectors and
	// rebuilding, which openStack sets.
	qdrant qdrant.Options
}

func (f *storeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.kind, "store", "local", "where the index lives: local (the --data directory) or qdrant (a Qdrant server or cluster, see docs/OPERATIONS.md)")
	fs.StringVar(&f.qdrant.Addr, "qdrant-addr", qdrant.DefaultAddr, "qdrant: gRPC address host:port")
	fs.StringVar(&f.qdrant.Alias, "qdrant-alias", qdrant.DefaultAlias, "qdrant: collection alias naming the serving generation")
	fs.StringVar(&f.qdrant.APIKeyFile, "qdrant-api-key-file", "", "qdrant: file holding the API key (default: $"+qdrant.DefaultAPIKeyEnv+")")
	fs.BoolVar(&f.qdrant.TLS, "qdrant-tls", false, "qdrant: connect with TLS, verified against the system's roots")
	fs.Uint32Var(&f.qdrant.Shards, "qdrant-shards", 0, "qdrant: shard number of a collection Cari creates (default: Qdrant's, one per node)")
	fs.Uint32Var(&f.qdrant.Replicas, "qdrant-replicas", 0, "qdrant: replication factor of a collection Cari creates (default: Qdrant's, 1)")
}
