package local

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cari-search/cari/internal/atomicfile"
	"github.com/cari-search/cari/store/local/hnsw"
)

// A snapshot of the vector index (annSnapshotFile in the generation
// directory) saves the graph so that opening a store need not rebuild it
// from the vector log, which stays the source of truth. It records the log
// prefix it covers (offset and record count; see hnsw.Mark); opening uses
// it only if that prefix ends on a record boundary within the committed log
// and holds the same numbers of records and passages, and then applies just
// the records after it. A missing, stale or damaged snapshot costs a
// rebuild from the log and a warning, never a failed open. Snapshots are
// written whole to a temporary file, synced and renamed, at Close and
// after enough writes (see hnsw.Index.SnapshotDue).
const annSnapshotFile = "vectors.hnsw"

// errSnapshotMismatch means a snapshot does not describe the log's prefix.
var errSnapshotMismatch = errors.New("snapshot does not match the vector log")

// openANN opens the generation's vector log and loads the vector index: the
// snapshot and the log records after it when the snapshot matches the log,
// else the whole log (and a warning, unless there was no snapshot at all).
func (g *generation) openANN(committed int64) (*vectorLog, *hnsw.Index, error) {
	genDir := g.dir
	logPath := filepath.Join(genDir, g.logName)
	snapPath := filepath.Join(genDir, annSnapshotFile)
	logger := g.log
	start := time.Now()
	// A crash while a snapshot was written leaves its temporary file.
	stale, _ := filepath.Glob(filepath.Join(genDir, "."+annSnapshotFile+".tmp*"))
	for _, p := range stale {
		os.Remove(p)
	}
	idx, mark, err := hnsw.ReadSnapshot(snapPath, g.m.Vectors.Dim, g.hnsw)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		logger.Warn("vector index snapshot is unreadable; rebuilding the index from the vector log", "path", snapPath, "err", err)
	case mark.Offset > committed:
		logger.Warn("vector index snapshot is ahead of the committed vector log; rebuilding the index from the log",
			"path", snapPath, "snapshot_offset", mark.Offset, "committed", committed)
		idx = nil
	}
	if err == nil && idx != nil {
		rp := &replayer{idx: idx, mark: mark, nodes: int64(idx.Stats().Nodes)}
		vlog, err := openVectorLog(logPath, committed, rp.apply)
		if err == nil {
			err = rp.check()
			if err == nil {
				logger.Info("loaded vector index snapshot", "path", snapPath, "nodes", idx.Stats().Nodes,
					"replayed_records", rp.applied, "took", time.Since(start).Round(time.Millisecond))
				return vlog, idx, nil
			}
			vlog.close()
		}
		if !errors.Is(err, errSnapshotMismatch) {
			return nil, nil, err
		}
		logger.Warn("vector index snapshot does not match the vector log; rebuilding the index from the log", "path", snapPath, "err", err)
	}
	idx = hnsw.New(g.m.Vectors.Dim, g.hnsw)
	rp := &replayer{idx: idx}
	vlog, err := openVectorLog(logPath, committed, rp.apply)
	if err != nil {
		return nil, nil, err
	}
	if nodes := idx.Stats().Nodes; nodes > 0 {
		logger.Info("built vector index from the vector log", "nodes", nodes, "took", time.Since(start).Round(time.Millisecond))
	}
	return vlog, idx, nil
}

// replayer applies vector log records to an index, skipping those a
// snapshot covers and checking that they add up to it: a record boundary at
// the snapshot's offset, as many records before it as the snapshot counted,
// and as many passages in them as the index has nodes.
type replayer struct {
	idx   *hnsw.Index
	mark  hnsw.Mark
	nodes int64 // the snapshot's

	pos, records, passages int64 // the covered part of the log so far
	applied                int
}

func (rp *replayer) apply(r vectorRecord) error {
	start := rp.pos
	rp.pos += recordSize(r)
	if rp.pos <= rp.mark.Offset {
		rp.records++
		if r.op == opPut {
			rp.passages += int64(len(r.vectors))
		}
		return nil
	}
	if start < rp.mark.Offset {
		return fmt.Errorf("%w: its offset %d is inside a record", errSnapshotMismatch, rp.mark.Offset)
	}
	if start == rp.mark.Offset {
		if err := rp.check(); err != nil {
			return err
		}
	}
	rp.applied++
	if r.op == opDelete {
		rp.idx.Delete(r.id)
		return nil
	}
	return rp.idx.Put(r.id, r.vectors)
}

// check compares the covered records with the snapshot.
func (rp *replayer) check() error {
	if rp.records != rp.mark.Records || rp.passages != rp.nodes {
		return fmt.Errorf("%w: it covers %d records and %d passages up to offset %d, the log has %d and %d",
			errSnapshotMismatch, rp.mark.Records, rp.nodes, rp.mark.Offset, rp.records, rp.passages)
	}
	return nil
}

// recordSize is the number of bytes r takes in the log (see vectorlog.go).
func recordSize(r vectorRecord) int64 {
	n := int64(8 + 1 + 2 + len(r.id))
	if r.op == opPut {
		n += 4
		for _, v := range r.vectors {
			n += 4 * int64(len(v))
		}
	}
	return n
}

// snapshotVectors saves the vector index, if it changed since its last
// snapshot, covering the log up to its committed end. A failure is logged,
// not returned: the log still holds everything, so the next open rebuilds.
// The caller holds the store's writeMu.
func (g *generation) snapshotVectors(force bool) {
	idx, ok := g.vecs.(*hnsw.Index)
	if !ok || g.vlog == nil {
		return
	}
	mark := hnsw.Mark{Offset: g.vlog.size, Records: idx.Records()}
	if idx.LastSnapshot() == mark || !force && !idx.SnapshotDue() {
		return
	}
	path := filepath.Join(g.dir, annSnapshotFile)
	start := time.Now()
	if err := writeSnapshot(path, idx, mark); err != nil {
		g.log.Warn("vector index snapshot failed; the next open rebuilds the index from the vector log", "err", err)
		return
	}
	g.log.Debug("wrote vector index snapshot", "path", path, "nodes", idx.Stats().Nodes, "took", time.Since(start).Round(time.Millisecond))
}

// writeSnapshot saves idx to path, covering the log up to mark, and records
// it as idx's last snapshot once it is durable.
func writeSnapshot(path string, idx *hnsw.Index, mark hnsw.Mark) error {
	err := atomicfile.Write(path, 0o600, func(w io.Writer) error { return idx.WriteSnapshot(w, mark) })
	if err != nil {
		return fmt.Errorf("write vector index snapshot %s: %w", path, err)
	}
	idx.SnapshotWritten(mark)
	return nil
}

// puts turns a batch's log records, all puts, into the graph's documents.
func puts(recs []vectorRecord) []hnsw.Doc {
	docs := make([]hnsw.Doc, len(recs))
	for i, r := range recs {
		docs[i] = hnsw.Doc{ID: r.id, Vectors: r.vectors}
	}
	return docs
}
