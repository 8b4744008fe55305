package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cari-search/cari/internal/atomicfile"
)

// A keyword index is checked before bleve opens it (checkKeywordIndex), and
// reading every segment's checksum costs as much as reading the index: a
// 10 GB index would be read at every start. After a clean shutdown nothing
// has written the segments since they were last checked, so the checks that
// need no more than a stat and the footer suffice; after a crash, or when
// the files changed since, every segment is checked in full (and cari
// verify always checks in full).
//
// Close records the clean shutdown in cleanShutdownFile, beside the
// keyword index: each live segment's size, inode, change time and footer
// checksum. Open reads the record and removes it, durably, before bleve
// opens the index for writing, so a crash at any later point leaves no
// record and the next open checks every segment. A segment whose size,
// inode or change time differs from the record was written to, replaced or
// copied since (a change time can be set by no user tool, and every write
// moves it), and is checked in full.
const cleanShutdownFile = "clean-shutdown.json"

// cleanShutdown is the record Close leaves of a keyword index's segments.
type cleanShutdown struct {
	// Segments holds the live segments by file name.
	Segments map[string]segmentStamp `json:"segments"`
}

// segmentStamp is what can be known of a segment file without reading it.
type segmentStamp struct {
	Size int64 `json:"size"`
	// Inode and ChangeNanos come from the file system (zero where the
	// platform has no change time: then a segment is always read in full).
	Inode       uint64 `json:"inode"`
	ChangeNanos int64  `json:"change_ns"`
	// CRC is the checksum the segment's footer stores.
	CRC uint32 `json:"crc"`
}

// stampSegment stamps the segment file at path, reading only its footer's
// checksum.
func stampSegment(path string) (segmentStamp, bool, error) {
	f, info, err := openSegmentFile(path)
	if err != nil {
		return segmentStamp{}, false, err
	}
	defer f.Close()
	st := segmentStamp{Size: info.Size()}
	var ok bool
	st.Inode, st.ChangeNanos, ok = fileChange(info)
	crc, err := storedSegmentCRC(f, st.Size)
	st.CRC = crc
	return st, ok, err
}

// recordCleanShutdown writes the clean-shutdown record of the keyword index
// in kwDir, which must be closed. A failure only costs the next open a full
// check.
func recordCleanShutdown(kwDir string) error {
	files, err := liveSegmentFiles(kwDir)
	if err != nil {
		return err
	}
	rec := cleanShutdown{Segments: make(map[string]segmentStamp, len(files))}
	for _, name := range files {
		st, ok, err := stampSegment(segmentPath(kwDir, name))
		if err != nil {
			return err
		}
		if !ok {
			return nil // no change times here: every open checks in full
		}
		rec.Segments[filepath.Base(name)] = st
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return writeFileAtomic(cleanShutdownPath(kwDir), b)
}

// takeCleanShutdown reads and removes the clean-shutdown record of the
// keyword index in kwDir; nil when there is none (the last process to open
// it did not close it) or it does not read. The removal is synced before
// it returns, so that no crash after it leaves a record behind.
func takeCleanShutdown(kwDir string) (*cleanShutdown, error) {
	path := cleanShutdownPath(kwDir)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return nil, fmt.Errorf("remove %s: %w", path, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("sync the removal of %s: %w", path, err)
	}
	var rec cleanShutdown
	if json.Unmarshal(b, &rec) != nil || rec.Segments == nil {
		return nil, nil
	}
	return &rec, nil
}

// unchanged reports whether the segment file at path is as the record left
// it: same size, inode, change time and footer checksum. It reads the
// footer's checksum and nothing else.
func (c *cleanShutdown) unchanged(path string) bool {
	if c == nil {
		return false
	}
	want, ok := c.Segments[filepath.Base(path)]
	if !ok {
		return false
	}
	got, ok, err := stampSegment(path)
	return err == nil && ok && got == want
}

func cleanShutdownPath(kwDir string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(kwDir)), cleanShutdownFile)
}

func segmentPath(kwDir, name string) string {
	return filepath.Join(kwDir, "store", filepath.Base(name))
}
