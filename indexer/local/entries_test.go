package local

import (
	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
)

// entries wraps documents as keyword-only entries with one passage each.
func entries(docs ...cari.Document) []indexer.Entry {
	out := make([]indexer.Entry, len(docs))
	for i, d := range docs {
		out[i] = indexer.Entry{Doc: d, Chunks: []cari.Chunk{{End: len(d.Text)}}}
	}
	return out
}
