package local

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cari-search/cari/internal/atomicfile"
	"github.com/cari-search/cari/store/local/hnsw"
)

// Compaction reclaims what replaced and deleted documents leave behind: their
// put records in the vector log and their tombstones in the graph. It copies
// the last put of every stored document into a new log, building a graph of
// just those passages as it goes, with writes and searches going on; then,
// holding the write lock, it copies the few records written meanwhile,
// commits the new log's name and offset in one keyword-index batch, and
// swaps the graph in. So the keyword index names, at every instant, a
// complete log: a crash before the commit leaves the old log in force (the
// new one is removed at open), a crash after it the new one (the old one is
// removed). The graph snapshot is removed before the commit and written
// after it, so that no snapshot of the old log is ever read with the new.
//
// A write starts one in the background when the garbage reaches the live
// data (and compactMinGarbage), so the log and the graph stay within about
// twice what the live passages need, and each compaction's cost, linear in
// the live passages, is paid for by as many changes.

// compactMinGarbage is the least number of dead graph nodes, or of log
// records of replaced and deleted documents, that starts a compaction; tests
// lower it.
var compactMinGarbage = 4096

// compactionDue reports whether the graph's tombstones or the log's dead
// records outnumber the live ones (and compactMinGarbage).
func compactionDue(st hnsw.Stats, records int64) bool {
	deadNodes := st.Nodes - st.Passages
	deadRecords := int(records) - st.Known
	return deadNodes >= max(st.Passages, compactMinGarbage) || deadRecords >= max(st.Known, compactMinGarbage)
}

// maybeCompact starts a compaction of the serving generation in the
// background if one is due and none runs.
func (s *Store) maybeCompact(g *generation) {
	graph, ok := g.vecs.(*hnsw.Index)
	if !ok || g.vlog == nil || !compactionDue(graph.Stats(), graph.Records()) {
		return
	}
	s.mu.Lock()
	if s.compactCtx.Err() != nil || s.compacting || s.serving != g {
		s.mu.Unlock()
		return
	}
	s.compacting = true
	g.refs.Add(1)
	s.compactions.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.compactions.Done()
		defer g.refs.Done()
		start := time.Now()
		err := s.compact(s.compactCtx, g)
		s.mu.Lock()
		s.compacting = false
		s.mu.Unlock()
		if err != nil && !errors.Is(err, context.Canceled) {
			s.opts.Logger.Warn("vector log compaction failed; the next write retries it", "generation", g.m.Name, "err", err)
			return
		}
		if err == nil {
			s.opts.Logger.Info("compacted the vector log and graph", "generation", g.m.Name, "took", time.Since(start).Round(time.Millisecond))
		}
	}()
}

// Compact reclaims now the vector log records and graph nodes of replaced
// and deleted documents in the serving generation (writes start it by
// themselves when enough has accumulated). Searches and writes go on.
func (s *Store) Compact(ctx context.Context) error {
	s.mu.Lock()
	if s.compactCtx.Err() != nil {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.compacting {
		s.mu.Unlock()
		s.compactions.Wait()
		return nil
	}
	g := s.serving
	s.compacting = true
	g.refs.Add(1)
	s.compactions.Add(1)
	s.mu.Unlock()
	defer func() {
		g.refs.Done()
		s.mu.Lock()
		s.compacting = false
		s.mu.Unlock()
		s.compactions.Done()
	}()
	// Close stops this compaction as it stops a background one.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.compactCtx, cancel)()
	return s.compact(ctx, g)
}

// compact rewrites g's vector log and graph; see the top of this file. The
// caller holds a reference on g and the store's compacting flag.
func (s *Store) compact(ctx context.Context, g *generation) error {
	s.writeMu.Lock()
	graph, ok := g.vecs.(*hnsw.Index)
	if !ok || g.vlog == nil {
		s.writeMu.Unlock()
		return nil
	}
	oldLog, end0 := g.vlog, g.vlog.size
	s.writeMu.Unlock()

	name := fmt.Sprintf("vectors.%d.log", time.Now().UnixNano())
	path := filepath.Join(g.dir, name)
	out, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create compacted vector log: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			out.Close()
			os.Remove(path)
		}
	}()
	next := hnsw.New(g.m.Vectors.Dim, graph.Params())
	w := &logCopy{w: bufio.NewWriterSize(out, 1<<20), idx: next}
	if err := copyLive(ctx, oldLog.path, end0, w); err != nil {
		return err
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := errors.Join(ctx.Err(), s.checkOpen()); err != nil {
		return err
	}
	if g.vlog != oldLog {
		return errors.New("the generation was closed or rebuilt meanwhile")
	}
	// The records written since the copy began, in order.
	if err := readLogRange(oldLog.path, end0, oldLog.size, w.apply); err != nil {
		return err
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("write compacted vector log: %w", err)
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("sync compacted vector log: %w", err)
	}
	if err := atomicfile.SyncDir(g.dir); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(g.dir, annSnapshotFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the vector index snapshot of the old log: %w", err)
	}
	if err := atomicfile.SyncDir(g.dir); err != nil {
		return err
	}
	batch := g.idx.NewBatch()
	batch.SetInternal(vlogKey, binary.LittleEndian.AppendUint64(nil, uint64(w.size)))
	batch.SetInternal(vlogFileKey, []byte(name))
	if err := g.idx.Batch(batch); err != nil {
		return fmt.Errorf("commit compacted vector log: %w", err)
	}
	committed = true
	if _, err := out.Seek(w.size, io.SeekStart); err != nil {
		return err
	}
	g.vlog, g.logName = &vectorLog{path: path, f: out, size: w.size}, name
	oldLog.close()
	os.Remove(oldLog.path)
	graph.Replace(next)
	g.snapshotVectors(true)
	return nil
}

// copyLive copies to w the last record of every document in the first end
// bytes of the log at path, when it is a put, in log order.
func copyLive(ctx context.Context, path string, end int64, w *logCopy) error {
	last := map[string]int{}
	i := 0
	if err := readLogRange(path, 0, end, func(r vectorRecord) error {
		last[r.id] = i
		i++
		return ctx.Err()
	}); err != nil {
		return err
	}
	i = 0
	return readLogRange(path, 0, end, func(r vectorRecord) error {
		keep := last[r.id] == i && r.op == opPut
		i++
		if !keep {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return w.apply(r)
	})
}

// readLogRange calls fn for each record between offsets from and to of the
// log at path, which the caller knows to be whole records.
func readLogRange(path string, from, to int64, fn func(vectorRecord) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open vector log: %w", err)
	}
	defer f.Close()
	if err := readRecords(io.NewSectionReader(f, from, to-from), fn); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// logCopy writes records to a new log and applies them to its graph.
type logCopy struct {
	w    *bufio.Writer
	idx  *hnsw.Index
	size int64
	buf  []byte
}

func (c *logCopy) apply(r vectorRecord) error {
	c.buf = appendRecord(c.buf[:0], r)
	if _, err := c.w.Write(c.buf); err != nil {
		return fmt.Errorf("write compacted vector log: %w", err)
	}
	c.size += int64(len(c.buf))
	if r.op == opDelete {
		c.idx.Delete(r.id)
		return nil
	}
	return c.idx.Put(r.id, r.vectors)
}
