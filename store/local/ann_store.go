package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// openANN opens the generation's vector log and loads the vector index: the
// snapshot and the log records after it when the snapshot matches the log,
// else the whole log (and a warning, unless there was no snapshot at all).
func (g *generation) openANN(committed int64) (*vectorLog, *hnswIndex, error) {
	genDir := g.dir
	logPath := filepath.Join(genDir, vectorLogFile)
	snapPath := filepath.Join(genDir, annSnapshotFile)
	logger := g.log
	start := time.Now()
	// A crash while a snapshot was written leaves its temporary file.
	stale, _ := filepath.Glob(filepath.Join(genDir, "."+annSnapshotFile+".tmp*"))
	for _, p := range stale {
		os.Remove(p)
	}
	idx, mark, err := readSnapshot(snapPath, g.m.Vectors.Dim, g.hnsw)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		logger.Warn("vector index snapshot is unreadable; rebuilding the index from the vector log", "path", snapPath, "err", err)
	case mark.offset > committed:
		logger.Warn("vector index snapshot is ahead of the committed vector log; rebuilding the index from the log",
			"path", snapPath, "snapshot_offset", mark.offset, "committed", committed)
		idx = nil
	}
	if err == nil && idx != nil {
		rp := &replayer{idx: idx, mark: mark, nodes: int64(len(idx.doc))}
		vlog, err := openVectorLog(logPath, committed, rp.apply)
		if err == nil {
			err = rp.check()
			if err == nil {
				logger.Info("loaded vector index snapshot", "path", snapPath, "nodes", len(idx.doc),
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
	idx = newHNSWIndex(g.m.Vectors.Dim, g.hnsw)
	rp := &replayer{idx: idx}
	vlog, err := openVectorLog(logPath, committed, rp.apply)
	if err != nil {
		return nil, nil, err
	}
	if len(idx.doc) > 0 {
		logger.Info("built vector index from the vector log", "nodes", len(idx.doc), "took", time.Since(start).Round(time.Millisecond))
	}
	return vlog, idx, nil
}

// replayer applies vector log records to an index, skipping those a
// snapshot covers and checking that they add up to it: a record boundary at
// the snapshot's offset, as many records before it as the snapshot counted,
// and as many passages in them as the index has nodes.
type replayer struct {
	idx   *hnswIndex
	mark  snapshotMark
	nodes int64 // the snapshot's

	pos, records, passages int64 // the covered part of the log so far
	applied                int
}

func (rp *replayer) apply(r vectorRecord) error {
	start := rp.pos
	rp.pos += recordSize(r)
	if rp.pos <= rp.mark.offset {
		rp.records++
		if r.op == opPut {
			rp.passages += int64(len(r.vectors))
		}
		return nil
	}
	if start < rp.mark.offset {
		return fmt.Errorf("%w: its offset %d is inside a record", errSnapshotMismatch, rp.mark.offset)
	}
	if start == rp.mark.offset {
		if err := rp.check(); err != nil {
			return err
		}
	}
	rp.applied++
	if r.op == opDelete {
		rp.idx.delete(r.id)
		return nil
	}
	return rp.idx.put(r.id, r.vectors)
}

// check compares the covered records with the snapshot.
func (rp *replayer) check() error {
	if rp.records != rp.mark.records || rp.passages != rp.nodes {
		return fmt.Errorf("%w: it covers %d records and %d passages up to offset %d, the log has %d and %d",
			errSnapshotMismatch, rp.mark.records, rp.nodes, rp.mark.offset, rp.records, rp.passages)
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
	idx, ok := g.vecs.(*hnswIndex)
	if !ok || g.vlog == nil {
		return
	}
	mark := snapshotMark{offset: g.vlog.size, records: idx.records}
	if idx.snapshot == mark || !force && !idx.snapshotDue() {
		return
	}
	path := filepath.Join(g.dir, annSnapshotFile)
	start := time.Now()
	if err := idx.writeSnapshot(path, mark); err != nil {
		g.log.Warn("vector index snapshot failed; the next open rebuilds the index from the vector log", "err", err)
		return
	}
	g.log.Debug("wrote vector index snapshot", "path", path, "nodes", len(idx.doc), "took", time.Since(start).Round(time.Millisecond))
}
