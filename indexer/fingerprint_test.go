package indexer

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// fingerprintWriter is a Writer that remembers the fingerprint of every
// document written, as a store does, and answers Fingerprints. Like a
// store, it is safe for concurrent use: a pipelined Indexer asks for the
// next batch's fingerprints while the last batch is written.
type fingerprintWriter struct {
	recordingWriter
	mu     sync.Mutex
	stored map[string]string
}

func (w *fingerprintWriter) Upsert(ctx context.Context, entries []store.Entry) error {
	w.mu.Lock()
	for _, e := range entries {
		w.stored[e.Doc.ID] = store.Fingerprint(e)
	}
	w.mu.Unlock()
	return w.recordingWriter.Upsert(ctx, entries)
}

func (w *fingerprintWriter) Fingerprints(_ context.Context, ids []string) (map[string]string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]string{}
	for _, id := range ids {
		if fp, ok := w.stored[id]; ok {
			out[id] = fp
		}
	}
	return out, nil
}

// countingEmbedder counts the passages it embeds.
type countingEmbedder struct{ texts int }

func (e *countingEmbedder) EmbedDocuments(_ context.Context, texts []string) ([][]float32, error) {
	e.texts += len(texts)
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = []float32{1, 0}
	}
	return out, nil
}

// Re-importing unchanged documents embeds and writes nothing; a changed
// one, and the last of two with one ID, are embedded and written.
func TestIndexerSkipsUnchanged(t *testing.T) {
	for _, pipelined := range []bool{false, true} {
		t.Run(fmt.Sprintf("pipelined=%v", pipelined), func(t *testing.T) {
			ctx := context.Background()
			w := &fingerprintWriter{stored: map[string]string{}}
			emb := &countingEmbedder{}
			docs := func() []cari.Document {
				var out []cari.Document
				for i := range 10 {
					out = append(out, cari.Document{ID: fmt.Sprintf("d%d", i), Title: "Title", Text: fmt.Sprintf("Document number %d.", i)})
				}
				return out
			}
			run := func(docs []cari.Document) *Indexer {
				ix := newIndexer(t, w, Options{BatchSize: 4, Embedder: emb, Pipelined: pipelined})
				for _, d := range docs {
					if err := ix.Add(ctx, d); err != nil {
						t.Fatal(err)
					}
				}
				if err := ix.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				return ix
			}
			run(docs())
			first, written := emb.texts, len(w.ids())
			if first == 0 || written != 10 {
				t.Fatalf("first import embedded %d passages and wrote %d documents", first, written)
			}
			ix := run(docs())
			if emb.texts != first || len(w.ids()) != written || ix.Unchanged() != 10 || ix.Written() != 10 {
				t.Errorf("second import embedded %d passages, wrote %d documents, found %d unchanged, counts %d written; want 0, 0, 10, 10",
					emb.texts-first, len(w.ids())-written, ix.Unchanged(), ix.Written())
			}
			again := docs()
			again[3].Title = "Another title"
			// d5 changes and changes back within one batch: the last wins,
			// and it is what is stored.
			changedFive := again[5]
			changedFive.Text = "Changed."
			again = slices.Insert(again, 5, changedFive)
			ix = run(again)
			if got := w.ids()[written:]; !slices.Equal(got, []string{"d3"}) {
				t.Errorf("after changing d3 wrote %v, want [d3]", got)
			}
			if ix.Unchanged() != 9 {
				t.Errorf("unchanged = %d, want 9", ix.Unchanged())
			}
		})
	}
}
