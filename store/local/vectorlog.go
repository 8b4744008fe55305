package local

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
)

// The vector log is the durable home of passage vectors: an append-only
// file of records, each
//
//	u32 payload length | u32 CRC-32C of payload | payload
//
// where a payload is
//
//	op u8 (opPut or opDelete) | u16 id length | id | [opPut: u16 count | u16 dim | count*dim float32]
//
// all little-endian. Writes are ordered: a batch's records are appended and
// fsynced first, then the keyword index commits the batch together with the
// log offset it covers (internal key vlogKey). On open, records past that
// offset belong to a batch that never committed and are cut off, so the two
// sides always agree. The in-memory vector index is rebuilt from the log.
const (
	vectorLogFile = "vectors.log"
	opPut         = 1
	opDelete      = 2
	maxRecordSize = 256 << 20
)

// A compaction (compact.go) rewrites the log into a new file and commits
// its name with its offset (internal key vlogFileKey), so that the keyword
// index always names the log its offset belongs to; a store written before
// compaction existed has no name recorded and its log is vectorLogFile.
var (
	vlogKey     = []byte("cari:vlog")
	vlogFileKey = []byte("cari:vlog-file")
	crc32c      = crc32.MakeTable(crc32.Castagnoli)
	errTornLog  = errors.New("vector log record is damaged")
	// compactedLogName matches the logs a compaction writes.
	compactedLogName = regexp.MustCompile(`^vectors\.[0-9]+\.log$`)
)

// vectorRecord is one decoded log record.
type vectorRecord struct {
	op      byte
	id      string
	vectors [][]float32
}

// vectorLog appends records to the log file. It is used under the store's
// write lock.
type vectorLog struct {
	path string
	f    *os.File
	size int64
}

// openVectorLog opens the log, cuts it to committed bytes (dropping a batch
// that never committed) and calls replay for every committed record. A log
// shorter than committed, or a damaged record inside the committed part, is
// corruption the store cannot repair by itself.
func openVectorLog(path string, committed int64, replay func(vectorRecord) error) (*vectorLog, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open vector log: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if info.Size() < committed {
		f.Close()
		return nil, fmt.Errorf("%s is %d bytes but the index committed %d: the file was truncated or replaced; run cari repair (it rebuilds the vectors from the stored text), or reindex",
			path, info.Size(), committed)
	}
	if info.Size() > committed {
		if err := f.Truncate(committed); err != nil {
			f.Close()
			return nil, fmt.Errorf("cut uncommitted tail of vector log: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := readRecords(io.NewSectionReader(f, 0, committed), replay); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w; run cari repair (it rebuilds the vectors from the stored text), or reindex", path, err)
	}
	if _, err := f.Seek(committed, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return &vectorLog{path: path, f: f, size: committed}, nil
}

func readRecords(r io.Reader, fn func(vectorRecord) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var off int64
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%w at offset %d: %v", errTornLog, off, err)
		}
		n, sum := binary.LittleEndian.Uint32(hdr[:4]), binary.LittleEndian.Uint32(hdr[4:])
		if n > maxRecordSize {
			return fmt.Errorf("%w at offset %d: length %d", errTornLog, off, n)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return fmt.Errorf("%w at offset %d: %v", errTornLog, off, err)
		}
		if crc32.Checksum(payload, crc32c) != sum {
			return fmt.Errorf("%w at offset %d: checksum mismatch", errTornLog, off)
		}
		rec, err := decodeRecord(payload)
		if err != nil {
			return fmt.Errorf("%w at offset %d: %v", errTornLog, off, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
		off += int64(8 + n)
	}
}

// append writes records and fsyncs them, returning the new end offset. On
// error the file is cut back to where it was.
func (l *vectorLog) append(recs []vectorRecord) (int64, error) {
	var buf []byte
	for _, r := range recs {
		buf = appendRecord(buf, r)
	}
	if _, err := l.f.Write(buf); err != nil {
		l.rollback(l.size)
		return l.size, fmt.Errorf("append to vector log: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		l.rollback(l.size)
		return l.size, fmt.Errorf("sync vector log: %w", err)
	}
	return l.size + int64(len(buf)), nil
}

// appendRecord appends r to buf as the log stores it: length, checksum,
// payload.
func appendRecord(buf []byte, r vectorRecord) []byte {
	payload := encodeRecord(r)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(payload)))
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(payload, crc32c))
	return append(buf, payload...)
}

// commit records that the keyword index now covers the log up to end.
func (l *vectorLog) commit(end int64) { l.size = end }

// rollback cuts the file back to size after a batch failed to commit.
func (l *vectorLog) rollback(size int64) {
	_ = l.f.Truncate(size)
	_, _ = l.f.Seek(size, io.SeekStart)
}

func (l *vectorLog) close() error { return l.f.Close() }

func encodeRecord(r vectorRecord) []byte {
	b := []byte{r.op}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(r.id)))
	b = append(b, r.id...)
	if r.op != opPut {
		return b
	}
	dim := 0
	if len(r.vectors) > 0 {
		dim = len(r.vectors[0])
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(r.vectors)))
	b = binary.LittleEndian.AppendUint16(b, uint16(dim))
	for _, v := range r.vectors {
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	}
	return b
}

func decodeRecord(b []byte) (vectorRecord, error) {
	var r vectorRecord
	if len(b) < 3 {
		return r, errors.New("short record")
	}
	r.op = b[0]
	n := int(binary.LittleEndian.Uint16(b[1:3]))
	b = b[3:]
	if len(b) < n {
		return r, errors.New("short id")
	}
	r.id, b = string(b[:n]), b[n:]
	switch r.op {
	case opDelete:
		return r, nil
	case opPut:
	default:
		return r, fmt.Errorf("unknown op %d", r.op)
	}
	if len(b) < 4 {
		return r, errors.New("short put header")
	}
	count, dim := int(binary.LittleEndian.Uint16(b[:2])), int(binary.LittleEndian.Uint16(b[2:4]))
	b = b[4:]
	if len(b) != count*dim*4 {
		return r, fmt.Errorf("put of %d vectors of %d dims has %d bytes", count, dim, len(b))
	}
	r.vectors = make([][]float32, count)
	for i := range r.vectors {
		v := make([]float32, dim)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[(i*dim+j)*4:]))
		}
		r.vectors[i] = v
	}
	return r, nil
}

// logFileName returns the name of the vector log the keyword index's
// committed offset belongs to.
func logFileName(idx internalReader) (string, error) {
	b, err := idx.GetInternal(vlogFileKey)
	if err != nil {
		return "", fmt.Errorf("read vector log name: %w", err)
	}
	name := string(b)
	switch {
	case name == "":
		return vectorLogFile, nil
	case !compactedLogName.MatchString(name):
		return "", fmt.Errorf("the keyword index names vector log %q, which is not a log's name: it is damaged", name)
	}
	return name, nil
}

// removeStaleLogs removes the vector logs of dir other than current: a
// compaction interrupted before its commit leaves its new log, and one
// interrupted after it leaves the old one. Neither holds anything the
// committed log lacks.
func removeStaleLogs(dir, current string) {
	names, _ := filepath.Glob(filepath.Join(dir, "vectors*.log"))
	for _, p := range names {
		if base := filepath.Base(p); base != current && (base == vectorLogFile || compactedLogName.MatchString(base)) {
			os.Remove(p)
		}
	}
}
