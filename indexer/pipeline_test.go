package indexer

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cari-search/cari/store"
)

// gatedWriter is a Writer whose Upsert waits for a value on gate, then fails
// the call numbered failAt (1 for the first; 0 never) and records the others.
type gatedWriter struct {
	gate   chan struct{}
	failAt int
	calls  int
	rec    recordingWriter
}

func (w *gatedWriter) Upsert(ctx context.Context, entries []store.Entry) error {
	<-w.gate
	w.calls++
	if w.calls == w.failAt {
		return errors.New("disk full")
	}
	return w.rec.Upsert(ctx, entries)
}

// TestIndexerPipelined checks that a pipelined Add returns while its batch
// is still being written, that the batch counts as written only once the
// store took it, and that Flush waits for it.
func TestIndexerPipelined(t *testing.T) {
	w := &gatedWriter{gate: make(chan struct{})}
	ix := newIndexer(t, w, Options{BatchSize: 2, Pipelined: true})
	ctx := t.Context()
	for i := range 2 {
		if err := ix.Add(ctx, numbered(i)); err != nil {
			t.Fatal(err)
		}
	}
	// The writer is blocked on the gate, yet Add returned.
	if ix.Written() != 0 || ix.Pending() != 2 {
		t.Fatalf("batch in the writer: written %d, pending %d; want 0 and 2", ix.Written(), ix.Pending())
	}
	if err := ix.Add(ctx, numbered(2)); err != nil {
		t.Fatal(err)
	}
	if ix.Pending() != 3 {
		t.Errorf("pending %d with one batch in the writer and one document queued, want 3", ix.Pending())
	}
	close(w.gate)
	if err := ix.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if ix.Written() != 3 || ix.Pending() != 0 {
		t.Errorf("after Flush: written %d, pending %d; want 3 and 0", ix.Written(), ix.Pending())
	}
	if got := strings.Join(w.rec.ids(), ","); got != "doc0,doc1,doc2" {
		t.Errorf("stored %s, want doc0,doc1,doc2 in order", got)
	}
}

// TestIndexerPipelinedWriteError checks that a background write's failure
// comes back from the next Add, and that its documents are not counted.
func TestIndexerPipelinedWriteError(t *testing.T) {
	w := &gatedWriter{gate: make(chan struct{}), failAt: 2}
	close(w.gate)
	ix := newIndexer(t, w, Options{BatchSize: 2, Pipelined: true})
	ctx := t.Context()
	var err error
	added := 0
	for i := range 8 {
		if err = ix.Add(ctx, numbered(i)); err != nil {
			break
		}
		added++
	}
	// Batch 2 (doc2, doc3) fails in the background; the Add that completes
	// batch 3 waits for it before handing batch 3 over.
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "batch of 2") {
		t.Fatalf("Add error %v, want the failed write of a batch of 2", err)
	}
	if added != 5 {
		t.Errorf("the error came from Add number %d, want 6 (the one completing the next batch)", added+1)
	}
	if ix.Written() != 2 {
		t.Errorf("written %d, want 2: only the first batch was stored", ix.Written())
	}
	if got := strings.Join(w.rec.ids(), ","); got != "doc0,doc1" {
		t.Errorf("stored %s, want doc0,doc1", got)
	}
	if err := ix.Wait(); err != nil {
		t.Errorf("Wait after the failure was returned: %v", err)
	}
}
