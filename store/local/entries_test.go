package local

import (
	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// entries wraps documents as keyword-only entries with one passage each.
func entries(docs ...cari.Document) []store.Entry {
	out := make([]store.Entry, len(docs))
	for i, d := range docs {
		out[i] = store.Entry{Doc: d, Chunks: []cari.Chunk{{End: len(d.Text)}}}
	}
	return out
}
