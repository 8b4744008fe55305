package hnsw

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"
)

// A snapshot saves the graph so that the store need not rebuild it from its
// vector log, which stays the source of truth. A snapshot records the log
// prefix it covers (a Mark: the log's offset, which the index only keeps,
// and the number of records, the puts and deletes the index applied); the
// store uses it only if that prefix matches its committed log, and then
// applies just the records after it. The store chooses the file, writes it
// atomically, and rebuilds from the log when a snapshot is missing, stale
// or damaged.
//
// Layout, little-endian, each section one after the other:
//
//	"CARIHNSW" | u32 version | u64 log offset | u64 log records | u32 dim | u32 M
//	| u32 efConstruction | u32 nodes | u32 documents | i32 entry | u32 top level
//	| per document: u16 ID length, ID ("" once deleted)
//	| per node: i32 document, i32 ordinal, u8 state, u8 level
//	| per node: dim float32 | per node: 2M+1 int32 (layer-0 count and links)
//	| per node with level > 0: level*(M+1) int32 | u32 CRC-32C of all before
const (
	snapshotMagic   = "CARIHNSW"
	snapshotVersion = 1
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// Mark is the log prefix a snapshot covers.
type Mark struct {
	Offset  int64 // log bytes
	Records int64 // log records: puts and deletes applied
}

// WriteSnapshot writes the index to w as a snapshot covering the log up to
// mark. Searches go on meanwhile; writers wait. Once w is durable, the
// caller says so with SnapshotWritten.
func (x *Index) WriteSnapshot(w io.Writer, mark Mark) error {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	return x.encode(w, mark)
}

// SnapshotWritten records that a snapshot covering mark is durable:
// LastSnapshot returns mark, and SnapshotDue counts changes from here.
func (x *Index) SnapshotWritten(mark Mark) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	x.snapshot, x.sinceSnapshot = mark, 0
}

// LastSnapshot returns the mark of the last snapshot written or read (the
// zero Mark if none).
func (x *Index) LastSnapshot() Mark {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	return x.snapshot
}

// SnapshotDue reports whether enough has changed since the last snapshot
// that rebuilding it at open would cost noticeably: a quarter of the nodes
// and at least 20,000 changes.
func (x *Index) SnapshotDue() bool {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	return x.sinceSnapshot >= max(20_000, len(x.doc)/4)
}

func (x *Index) encode(w io.Writer, mark Mark) error {
	sum := crc32.New(crc32c)
	bw := bufio.NewWriterSize(io.MultiWriter(w, sum), 1<<20)
	le := binary.LittleEndian
	b := []byte(snapshotMagic)
	b = le.AppendUint32(b, snapshotVersion)
	b = le.AppendUint64(b, uint64(mark.Offset))
	b = le.AppendUint64(b, uint64(mark.Records))
	for _, v := range []int{x.dim, x.p.M, x.p.EfConstruction, len(x.doc), len(x.docIDs)} {
		b = le.AppendUint32(b, uint32(v))
	}
	b = le.AppendUint32(b, uint32(x.entry))
	b = le.AppendUint32(b, uint32(x.maxLevel))
	bw.Write(b)
	for _, id := range x.docIDs {
		bw.Write(le.AppendUint16(nil, uint16(len(id))))
		bw.WriteString(id)
	}
	for n := range x.doc {
		b = le.AppendUint32(b[:0], uint32(x.doc[n]))
		b = le.AppendUint32(b, uint32(x.ord[n]))
		b = append(b, x.state[n], byte(len(x.upper[n])/(x.p.M+1)))
		bw.Write(b)
	}
	nodes := len(x.doc)
	for k, page := range x.vecPages {
		used := page[:min(pageNodes, nodes-k*pageNodes)*x.dim]
		for i := 0; i < len(used); i += 4096 {
			b = b[:0]
			for _, v := range used[i:min(i+4096, len(used))] {
				b = le.AppendUint32(b, math.Float32bits(v))
			}
			bw.Write(b)
		}
	}
	for k, page := range x.linkPages {
		writeInt32s(bw, page[:min(pageNodes, nodes-k*pageNodes)*(x.m0+1)])
	}
	for _, up := range x.upper {
		writeInt32s(bw, up)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(le.AppendUint32(nil, sum.Sum32()))
	return err
}

func writeInt32s(w *bufio.Writer, vs []int32) {
	b := make([]byte, 0, 4*min(len(vs), 4096))
	for i := 0; i < len(vs); i += 4096 {
		b = b[:0]
		for _, v := range vs[i:min(i+4096, len(vs))] {
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		}
		w.Write(b)
	}
}

// ReadSnapshot loads a snapshot written by WriteSnapshot for vectors of dim
// dimensions, and returns the mark it covers; p supplies the search
// settings (the graph's own come from the file). Any inconsistency is an
// error, never a panic or a wrong index: the caller rebuilds instead.
func ReadSnapshot(path string, dim int, p Params) (*Index, Mark, error) {
	var mark Mark
	f, err := os.Open(path)
	if err != nil {
		return nil, mark, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, mark, err
	}
	r := &snapshotReader{r: bufio.NewReaderSize(f, 1<<20), sum: crc32.New(crc32c), left: info.Size() - 4}
	if r.string(len(snapshotMagic)) != snapshotMagic || r.u32() != snapshotVersion {
		return nil, mark, errors.New("not a vector index snapshot of this version")
	}
	mark.Offset, mark.Records = int64(r.u64()), int64(r.u64())
	fileDim, m, efc, nodes, docs := int(r.u32()), int(r.u32()), int(r.u32()), int(r.u32()), int(r.u32())
	entry, maxLevel := int32(r.u32()), int(r.u32())
	if r.err == nil && (fileDim != dim || m < 2 || m > 1024 || maxLevel > maxHNSWLevel) {
		return nil, mark, fmt.Errorf("snapshot has dimension %d, M %d, top level %d; want dimension %d", fileDim, m, maxLevel, dim)
	}
	p.M, p.EfConstruction = m, efc
	x := New(dim, p)
	x.entry, x.maxLevel = entry, maxLevel
	r.need(int64(docs)*2 + int64(nodes)*int64(10+4*dim+4*(2*m+1)))
	x.docIDs = make([]string, 0, min(docs, 1<<24))
	for i := 0; i < docs && r.err == nil; i++ {
		x.docIDs = append(x.docIDs, r.string(int(r.u16())))
	}
	levels := make([]int, 0, min(nodes, 1<<24))
	for i := 0; i < nodes && r.err == nil; i++ {
		x.doc = append(x.doc, int32(r.u32()))
		x.ord = append(x.ord, int32(r.u32()))
		x.state = append(x.state, byte(r.u16()))
		levels = append(levels, int(r.buf[1]))
	}
	if r.err == nil {
		for range (nodes + pageNodes - 1) / pageNodes {
			x.vecPages = append(x.vecPages, make([]float32, pageNodes*dim))
			x.linkPages = append(x.linkPages, make([]int32, pageNodes*(x.m0+1)))
		}
	}
	vecsPerPage, linksPerPage := pageNodes*dim, pageNodes*(x.m0+1)
	r.words(nodes*dim, func(i int, w uint32) {
		x.vecPages[i/vecsPerPage][i%vecsPerPage] = math.Float32frombits(w)
	})
	r.words(nodes*(x.m0+1), func(i int, w uint32) {
		x.linkPages[i/linksPerPage][i%linksPerPage] = int32(w)
	})
	x.upper = make([][]int32, len(levels))
	for n, l := range levels {
		if l > maxLevel {
			return nil, mark, fmt.Errorf("node %d is above the top level", n)
		}
		if l > 0 {
			x.upper[n] = r.int32s(l * (m + 1))
		}
	}
	if err := r.finish(); err != nil {
		return nil, mark, err
	}
	if err := x.rebuildDocs(); err != nil {
		return nil, mark, err
	}
	x.snapshot, x.records = mark, mark.Records
	return x, mark, nil
}

// rebuildDocs derives the per-document tables from the per-node ones and
// checks that every number points where it may, so that a snapshot whose
// checksum happens to match cannot make a search index out of range.
func (x *Index) rebuildDocs() error {
	nodes := int32(len(x.doc))
	if (nodes == 0) != (x.entry < 0) || x.entry >= nodes {
		return fmt.Errorf("entry node %d of %d", x.entry, nodes)
	}
	x.docNodes = make([][]int32, len(x.docIDs))
	for d, id := range x.docIDs {
		if id != "" {
			x.docNums[id] = int32(d)
		}
	}
	for n := range nodes {
		d := x.doc[n]
		if d < 0 || int(d) >= len(x.docIDs) {
			return fmt.Errorf("node %d belongs to document %d of %d", n, d, len(x.docIDs))
		}
		switch x.state[n] {
		case nodeLive:
			if x.docIDs[d] == "" {
				return fmt.Errorf("live node %d belongs to deleted document %d", n, d)
			}
			x.docNodes[d] = append(x.docNodes[d], n)
			x.live++
		case nodeDead:
		default:
			return fmt.Errorf("node %d has state %d", n, x.state[n])
		}
		for l := 0; l <= len(x.upper[n])/(x.p.M+1); l++ {
			b := x.block(n, l)
			if b[0] < 0 || int(b[0]) > x.maxLinks(l) {
				return fmt.Errorf("node %d has %d links on layer %d", n, b[0], l)
			}
			for _, e := range b[1 : 1+b[0]] {
				if e < 0 || e >= nodes || len(x.upper[e])/(x.p.M+1) < l {
					return fmt.Errorf("node %d links to %d on layer %d", n, e, l)
				}
			}
		}
	}
	for _, nodes := range x.docNodes {
		if len(nodes) > 0 {
			x.liveDocs++
		}
	}
	return nil
}

// snapshotReader reads a snapshot's fields, summing what it reads; the
// first error sticks and later reads return zeros without allocating, so a
// damaged header cannot ask for a huge slice.
type snapshotReader struct {
	r    *bufio.Reader
	sum  hash.Hash32
	left int64 // bytes before the checksum not read yet
	err  error
	buf  [1 << 16]byte
}

// need fails the read early when the file is too short for what the header
// declares, before anything that large is allocated.
func (r *snapshotReader) need(n int64) {
	if r.err == nil && n > r.left {
		r.err = fmt.Errorf("snapshot is %d bytes short", n-r.left)
	}
}

// read fills b, or sets r.err.
func (r *snapshotReader) read(b []byte) bool {
	r.need(int64(len(b)))
	if r.err != nil {
		return false
	}
	if _, err := io.ReadFull(r.r, b); err != nil {
		r.err = err
		return false
	}
	r.sum.Write(b)
	r.left -= int64(len(b))
	return true
}

func (r *snapshotReader) string(n int) string {
	if n > len(r.buf) || !r.read(r.buf[:n]) {
		return ""
	}
	return string(r.buf[:n])
}

func (r *snapshotReader) u16() uint16 {
	if !r.read(r.buf[:2]) {
		return 0
	}
	return binary.LittleEndian.Uint16(r.buf[:2])
}

func (r *snapshotReader) u32() uint32 {
	if !r.read(r.buf[:4]) {
		return 0
	}
	return binary.LittleEndian.Uint32(r.buf[:4])
}

func (r *snapshotReader) u64() uint64 {
	if !r.read(r.buf[:8]) {
		return 0
	}
	return binary.LittleEndian.Uint64(r.buf[:8])
}

// words reads n 32-bit words in chunks, passing each to put with its index.
func (r *snapshotReader) words(n int, put func(i int, w uint32)) {
	r.need(4 * int64(n))
	for i := 0; i < n && r.err == nil; {
		k := min(n-i, len(r.buf)/4)
		if !r.read(r.buf[:4*k]) {
			return
		}
		for j := range k {
			put(i+j, binary.LittleEndian.Uint32(r.buf[4*j:]))
		}
		i += k
	}
}

func (r *snapshotReader) int32s(n int) []int32 {
	r.need(4 * int64(n))
	if r.err != nil {
		return nil
	}
	out := make([]int32, n)
	r.words(n, func(i int, w uint32) { out[i] = int32(w) })
	return out
}

// finish checks that exactly the checksum is left and that it matches.
func (r *snapshotReader) finish() error {
	if r.err != nil {
		return r.err
	}
	if r.left != 0 {
		return fmt.Errorf("%d bytes after the last section", r.left)
	}
	var b [4]byte
	if _, err := io.ReadFull(r.r, b[:]); err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(b[:]) != r.sum.Sum32() {
		return errors.New("checksum mismatch")
	}
	return nil
}
