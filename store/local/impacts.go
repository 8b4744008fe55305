package local

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	segment "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/cari-search/cari/store"
)

// Block-max impacts: MaxScore (maxscore.go) can only skip what it can bound,
// and the only bound bleve's postings give is BM25's ceiling idf·(k1+1). So
// for every persisted keyword segment of at least minImpactDocs documents
// the store keeps, beside it, each body-field term's postings cut into
// blocks of impactBlockSize, and per block the (term frequency, field
// length) pairs no other posting of the block beats on both: BM25 grows
// with the frequency and falls with the length, so the block's best score
// is that of one of these pairs, whatever the collection's idf and average
// length and the field's BM25 parameters are when the query runs. These
// are Lucene's impacts (org.apache.lucene.index.Impact, the competitive
// (freq, norm) pairs of each block of 128 postings), at most maxImpacts per
// block (neighbours merged into the pair of the larger frequency and the
// smaller length, which still bounds both), and what block-max MaxScore
// (Ding and Suel, "Faster top-k document retrieval using block-max
// indexes", SIGIR 2011; Lucene's MaxScoreBulkScorer) skips blocks with.
//
// A segment never changes once written, so neither do its impacts: they are
// computed once, from the segment's own postings (deleted documents too: a
// bound over more postings is still a bound), and written to a sidecar file
// named after the segment, which records the segment's size and footer so
// that a sidecar of another file of the same name (a name reused after a
// crash) is never believed. Sidecars of segments bleve has removed are
// removed by the next sweep (impactIndex.sweep).

// impactBlockSize is the number of postings per block, as in Lucene.
var impactBlockSize = 128

// minImpactDocs is the smallest segment given impacts: a smaller one is
// read cheaply enough with the ceiling, and bleve merges it away soon.
// Tests lower it.
var minImpactDocs uint64 = 2048

// impactsDir is the folder of a generation holding the sidecars.
const impactsDir = "impacts"

// maxImpacts is the most (frequency, length) pairs a block keeps.
const maxImpacts = 4

// impact is a term frequency and a field length.
type impact struct{ tf, dl uint32 }

// impactBlock bounds one block of a term's postings in one segment: its
// postings score no more than the best of its pairs.
type impactBlock struct {
	last  uint32 // the segment's number of the block's last document
	n     uint8
	pairs [maxImpacts]impact
}

// segmentImpacts are one segment's impact blocks, per body field and term,
// kept as the sidecar's bytes with an index of where each term starts: a
// search decodes the blocks of its own terms only, and the memory they take
// is the file's (the blocks decoded into maps took 14 times as much).
type segmentImpacts struct {
	// raw is the sidecar, checksum included.
	raw []byte
	// fields holds, per body field, the offsets in raw of its terms'
	// entries, in term order.
	fields map[string][]uint32
}

// blocks returns the blocks of term in field; nil when the term has no
// postings in the segment.
func (si *segmentImpacts) blocks(field, term string) []impactBlock {
	offs := si.fields[field]
	i, found := slices.BinarySearchFunc(offs, term, func(off uint32, term string) int {
		d := impactsDecoder{b: si.raw[off:]}
		return bytes.Compare(d.bytes(), []byte(term))
	})
	if !found {
		return nil
	}
	d := impactsDecoder{b: si.raw[offs[i]:]}
	d.bytes()
	blocks, _ := d.blocks()
	return blocks
}

// termImpacts are the blocks of a segment's terms, per body field, as
// buildImpacts computes them.
type termImpacts map[string]map[string][]impactBlock

// bound is the most a posting of the block can score.
func (b *impactBlock) bound(bm store.BM25, idf, avgdl float64) float64 {
	m := 0.0
	for _, p := range b.pairs[:b.n] {
		m = max(m, bm.TermScore(idf, float64(p.tf), float64(p.dl), avgdl))
	}
	return m
}

// competitive returns the pairs of block no other pair beats on both
// frequency and length, by frequency descending, merged down to
// maxImpacts. It reorders block.
func competitive(block []impact) (out [maxImpacts]impact, n int) {
	slices.SortFunc(block, func(a, b impact) int {
		if a.tf != b.tf {
			return cmp.Compare(b.tf, a.tf)
		}
		return cmp.Compare(a.dl, b.dl)
	})
	front := block[:0]
	for _, p := range block {
		if len(front) == 0 || p.dl < front[len(front)-1].dl {
			front = append(front, p)
		}
	}
	// Cut the frontier into maxImpacts runs of neighbours; a run is
	// bounded by its first frequency (the largest) and its last length
	// (the smallest).
	runs := min(len(front), maxImpacts)
	for i := range runs {
		lo, hi := i*len(front)/runs, (i+1)*len(front)/runs
		out[i] = impact{tf: front[lo].tf, dl: front[hi-1].dl}
	}
	return out, runs
}

// everyTerm is the automaton matching every term of a dictionary.
type everyTerm struct{}

func (everyTerm) Start() int               { return 0 }
func (everyTerm) IsMatch(int) bool         { return true }
func (everyTerm) CanMatch(int) bool        { return true }
func (everyTerm) WillAlwaysMatch(int) bool { return true }
func (everyTerm) Accept(int, byte) int     { return 0 }
func (everyTerm) String() string           { return "every term" }

var _ segment.Automaton = everyTerm{}

// buildImpacts reads every posting of seg's body fields, the file at path,
// and cuts them into blocks.
func buildImpacts(ctx context.Context, seg segment.Segment, path string) (*segmentImpacts, error) {
	ident, err := segmentIdent(path)
	if err != nil {
		return nil, err
	}
	ti := termImpacts{}
	var pl segment.PostingsList
	var it segment.PostingsIterator
	for _, field := range store.Fields() {
		dict, err := seg.Dictionary(field)
		if err != nil {
			return nil, fmt.Errorf("read the terms of %s: %w", field, err)
		}
		terms := map[string][]impactBlock{}
		di := dict.AutomatonIterator(everyTerm{}, nil, nil)
		for n := 0; ; n++ {
			if n%1024 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			e, err := di.Next()
			if err != nil {
				return nil, fmt.Errorf("read the terms of %s: %w", field, err)
			}
			if e == nil {
				break
			}
			if pl, err = dict.PostingsList([]byte(e.Term), nil, pl); err != nil {
				return nil, fmt.Errorf("read postings of %q in %s: %w", e.Term, field, err)
			}
			it = pl.Iterator(true, true, false, it)
			blocks, err := blockPostings(it, impactBlockSize)
			if err != nil {
				return nil, fmt.Errorf("read postings of %q in %s: %w", e.Term, field, err)
			}
			if len(blocks) > 0 {
				terms[e.Term] = blocks
			}
		}
		if len(terms) > 0 {
			ti[field] = terms
		}
	}
	return decodeImpacts(ti.encode(ident), ident)
}

// blockPostings cuts one posting list into blocks of size postings.
func blockPostings(it segment.PostingsIterator, size int) ([]impactBlock, error) {
	var out []impactBlock
	buf := make([]impact, 0, size)
	last := uint32(0)
	flush := func() {
		b := impactBlock{last: last}
		var n int
		b.pairs, n = competitive(buf)
		b.n = uint8(n)
		out, buf = append(out, b), buf[:0]
	}
	for {
		p, err := it.Next()
		if err != nil {
			return nil, err
		}
		if p == nil {
			break
		}
		last = uint32(p.Number())
		buf = append(buf, impact{tf: uint32(min(p.Frequency(), math.MaxUint32)), dl: fieldLength(p.Norm())})
		if len(buf) == size {
			flush()
		}
	}
	if len(buf) > 0 {
		flush()
	}
	return out, nil
}

// fieldLength recovers a posting's field length from bleve's norm,
// 1/sqrt(length) as a float32, as postingCursor.score does.
func fieldLength(norm float64) uint32 {
	return uint32(min(math.Round(1/(norm*norm)), math.MaxUint32))
}

// segmentIdent returns what names the content of the segment file at path:
// its size and its footer, which holds its checksum.
func segmentIdent(path string) ([]byte, error) {
	f, info, err := openSegmentFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ident := binary.LittleEndian.AppendUint64(nil, uint64(info.Size()))
	footer := make([]byte, segmentFooterSize)
	if _, err := f.ReadAt(footer, info.Size()-segmentFooterSize); err != nil {
		return nil, err
	}
	return append(ident, footer...), nil
}

// The sidecar: impactsMagic, then uvarints (block size; the segment's ident
// length and bytes; the number of fields and, per field, its name, its
// number of terms and, per term in order, its text, its number of blocks
// and per block the delta of its last document, its number of pairs and
// each pair's frequency and length), then the CRC-32 of everything before
// it.
var impactsMagic = []byte("CARIIMP2")

func (ti termImpacts) encode(ident []byte) []byte {
	b := slices.Clone(impactsMagic)
	b = binary.AppendUvarint(b, uint64(impactBlockSize))
	b = appendBytes(b, ident)
	fields := sortedMapKeys(ti)
	b = binary.AppendUvarint(b, uint64(len(fields)))
	for _, f := range fields {
		b = appendBytes(b, []byte(f))
		terms := sortedMapKeys(ti[f])
		b = binary.AppendUvarint(b, uint64(len(terms)))
		for _, t := range terms {
			b = appendBytes(b, []byte(t))
			blocks := ti[f][t]
			b = binary.AppendUvarint(b, uint64(len(blocks)))
			prev := uint32(0)
			for _, bl := range blocks {
				b = binary.AppendUvarint(b, uint64(bl.last-prev))
				b = binary.AppendUvarint(b, uint64(bl.n))
				for _, p := range bl.pairs[:bl.n] {
					b = binary.AppendUvarint(b, uint64(p.tf))
					b = binary.AppendUvarint(b, uint64(p.dl))
				}
				prev = bl.last
			}
		}
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func appendBytes(b, s []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func sortedMapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// errStaleImpacts says a sidecar describes another segment, or another
// block size, than the one it is read for.
var errStaleImpacts = errors.New("the impacts describe another segment file")

// decodeImpacts reads a sidecar, checking its checksum, that it describes
// the segment whose ident is given and that every block decodes, and
// indexes its terms.
func decodeImpacts(b, ident []byte) (*segmentImpacts, error) {
	if len(b) < len(impactsMagic)+4 || !bytes.HasPrefix(b, impactsMagic) {
		return nil, errors.New("not an impacts file")
	}
	body := b[:len(b)-4]
	if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return nil, errors.New("checksum mismatch: the file is damaged")
	}
	d := impactsDecoder{b: body[len(impactsMagic):]}
	blockSize, fileIdent := d.uvarint(), d.bytes()
	if d.err == nil && (blockSize != uint64(impactBlockSize) || !bytes.Equal(fileIdent, ident)) {
		return nil, errStaleImpacts
	}
	si := &segmentImpacts{raw: b, fields: map[string][]uint32{}}
	for range d.uvarint() {
		field := string(d.bytes())
		nterms := d.uvarint()
		offs := make([]uint32, 0, min(nterms, uint64(len(d.b))))
		for range nterms {
			offs = append(offs, uint32(len(b)-4-len(d.b)))
			d.bytes()
			if _, err := d.blocks(); err != nil {
				return nil, err
			}
		}
		si.fields[field] = offs
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, errors.New("the file does not decode")
	}
	return si, nil
}

// blocks decodes one term's blocks.
func (d *impactsDecoder) blocks() ([]impactBlock, error) {
	nblocks := d.uvarint()
	if d.err != nil || nblocks > uint64(len(d.b)) {
		return nil, errors.New("the file is truncated")
	}
	blocks := make([]impactBlock, nblocks)
	prev := uint64(0)
	for i := range blocks {
		prev += d.uvarint()
		b := impactBlock{last: uint32(prev)}
		n := d.uvarint()
		if n == 0 || n > maxImpacts {
			return nil, fmt.Errorf("a block has %d impacts", n)
		}
		b.n = uint8(n)
		for j := range n {
			b.pairs[j] = impact{tf: uint32(d.uvarint()), dl: uint32(d.uvarint())}
		}
		blocks[i] = b
	}
	if d.err != nil {
		return nil, errors.New("the file is truncated")
	}
	return blocks, nil
}

// impactsDecoder reads uvarints and byte strings, remembering the first
// failure.
type impactsDecoder struct {
	b   []byte
	err error
}

func (d *impactsDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = io.ErrUnexpectedEOF
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *impactsDecoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = io.ErrUnexpectedEOF
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

// sidecarPath is the impacts file of the segment file named segName.
func sidecarPath(genDir, segName string) string {
	return filepath.Join(genDir, impactsDir, strings.TrimSuffix(filepath.Base(segName), ".zap")+".imp")
}

// loadImpacts reads the sidecar of the segment file at segPath.
func loadImpacts(genDir, segPath string) (*segmentImpacts, error) {
	ident, err := segmentIdent(segPath)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(sidecarPath(genDir, segPath))
	if err != nil {
		return nil, err
	}
	return decodeImpacts(b, ident)
}

// writeImpacts writes the sidecar of the segment file at segPath.
func writeImpacts(genDir, segPath string, si *segmentImpacts) error {
	if err := os.MkdirAll(filepath.Join(genDir, impactsDir), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(sidecarPath(genDir, segPath), si.raw)
}

// checkImpacts compares the sidecar of the segment file at path, if it has
// one that reads, with the impacts of its postings: block bounds lower
// than the postings' would drop results. A missing or damaged sidecar is
// no fault (it is computed again).
func checkImpacts(ctx context.Context, genDir string, seg segment.Segment, path string) error {
	stored, err := loadImpacts(genDir, path)
	if err != nil {
		return nil
	}
	fresh, err := buildImpacts(ctx, seg, path)
	if err != nil {
		return err
	}
	if !bytes.Equal(stored.raw, fresh.raw) {
		return errors.New("the impacts disagree with the segment's postings and would drop results; remove the file (it is computed again)")
	}
	return nil
}
