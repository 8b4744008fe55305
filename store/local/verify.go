package local

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/internal/atomicfile"
	"github.com/cari-search/cari/internal/dirlock"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local/hnsw"
)

// Problem is one piece of damage or disagreement Verify found.
type Problem struct {
	// Path is the file or directory at fault.
	Path string
	// What says what is wrong, and for which document where one is known.
	What string
}

func (p Problem) String() string { return p.Path + ": " + p.What }

// Report is what Verify found in the serving generation.
type Report struct {
	Generation string
	// Documents and Passages are counted from the stored documents.
	Documents, Passages int64
	// VectorDocuments and VectorPassages are counted from the committed
	// vector log; zero for a keyword-only generation.
	VectorDocuments, VectorPassages int64
	// Segments is the number of keyword index segment files checked.
	Segments int
	// Problems is empty when the generation is whole and its parts agree.
	Problems []Problem
}

// OK reports whether Verify found nothing wrong.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// maxReportedProblems bounds a report, so that a badly damaged index does
// not produce a million lines; the first few say what is wrong.
const maxReportedProblems = 100

func (r *Report) add(path, format string, args ...any) {
	if len(r.Problems) < maxReportedProblems {
		r.Problems = append(r.Problems, Problem{Path: path, What: fmt.Sprintf(format, args...)})
	}
}

// Verify checks that the serving generation is whole and that its parts
// agree: every keyword segment matches its checksum, and its impacts, if
// written, are those of its postings; every stored document
// loads and its passages lie within its text; the corpus statistics add up;
// and, with vectors, the committed vector log reads cleanly and holds one
// vector per stored passage and none for documents that are not stored,
// and the in-memory vector index holds the same. Writers wait while it
// runs; searches go on. An error means Verify itself could not run.
func (s *Store) Verify(ctx context.Context) (Report, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	r, g, release, err := s.snapshotGen(ctx)
	if err != nil {
		return Report{}, err
	}
	defer release()
	kwDir := filepath.Join(g.dir, keywordDir)
	rep := Report{Generation: g.m.Name}

	if snap, ok := r.(*scorch.IndexSnapshot); ok {
		for _, seg := range snap.Segments() {
			ps, ok := seg.Segment().(segment.PersistedSegment)
			if !ok {
				continue
			}
			rep.Segments++
			if err := checkSegmentFile(ps.Path()); err != nil {
				rep.add(ps.Path(), "%v", err)
			} else if err := checkImpacts(ctx, g.dir, seg.Segment(), ps.Path()); err != nil {
				rep.add(sidecarPath(g.dir, ps.Path()), "%v", err)
			}
		}
	}

	chunks, err := verifyDocuments(ctx, r, kwDir, &rep)
	if err != nil {
		return rep, err
	}
	if !g.m.Vectors.IsZero() {
		if err := verifyVectors(r, g, chunks, &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// verifyDocuments reads every stored document and returns its number of
// passages by ID.
func verifyDocuments(ctx context.Context, r index.IndexReader, kwDir string, rep *Report) (map[string]int, error) {
	ids, err := r.DocIDReaderAll()
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	defer ids.Close()
	chunks := map[string]int{}
	var bodyTokens int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		iid, err := ids.Next()
		if err != nil {
			return nil, fmt.Errorf("list documents: %w", err)
		}
		if iid == nil {
			break
		}
		id, err := r.ExternalID(iid)
		if err != nil {
			rep.add(kwDir, "document number %x has no ID: %v", []byte(iid), err)
			continue
		}
		d, found, err := loadDocument(r, id)
		if err != nil || !found {
			rep.add(kwDir, "document %q is listed but does not load: %v", id, err)
			continue
		}
		for _, c := range d.Chunks {
			if c.End > len(d.Text) {
				rep.add(kwDir, "document %q: passage %d ends at byte %d of a %d-byte text", id, c.Ordinal, c.End, len(d.Text))
			}
		}
		n, _, _, err := storedCounts(r, id)
		if err != nil {
			rep.add(kwDir, "document %q: %v", id, err)
		}
		bodyTokens += n
		chunks[id] = len(d.Chunks)
		rep.Documents++
		rep.Passages += int64(len(d.Chunks))
	}
	if n, err := r.DocCount(); err != nil {
		return nil, err
	} else if int64(n) != rep.Documents {
		rep.add(kwDir, "the index counts %d documents, %d are listed", n, rep.Documents)
	}
	stats, err := snapshotStats(r)
	if err != nil {
		rep.add(kwDir, "%v", err)
		return chunks, nil
	}
	if stats.Docs != rep.Documents || stats.Chunks != rep.Passages || stats.BodyTokens != bodyTokens {
		rep.add(kwDir, "corpus statistics say %d documents, %d passages, %d tokens; the stored documents have %d, %d, %d",
			stats.Docs, stats.Chunks, stats.BodyTokens, rep.Documents, rep.Passages, bodyTokens)
	}
	return chunks, nil
}

// verifyVectors replays the committed vector log and compares it with the
// stored passages and the in-memory index.
func verifyVectors(r index.IndexReader, g *generation, chunks map[string]int, rep *Report) error {
	genDir := g.dir
	committed, err := committedLogOffset(r)
	if err != nil {
		rep.add(filepath.Join(genDir, keywordDir), "%v", err)
		return nil
	}
	logName, err := logFileName(r)
	if err != nil {
		rep.add(filepath.Join(genDir, keywordDir), "%v", err)
		return nil
	}
	logPath := filepath.Join(genDir, logName)
	logged, err := readVectorLog(logPath, committed)
	if err != nil {
		rep.add(logPath, "%v", err)
		return nil
	}
	for _, id := range sortedKeys(logged) {
		n := logged[id]
		rep.VectorDocuments++
		rep.VectorPassages += int64(n)
		want, stored := chunks[id]
		switch {
		case !stored:
			rep.add(logPath, "orphan vectors: document %q has %d vectors and is not stored", id, n)
		case n != want:
			rep.add(logPath, "document %q has %d vectors for %d passages", id, n, want)
		}
	}
	for _, id := range sortedKeys(chunks) {
		if _, ok := logged[id]; !ok {
			rep.add(logPath, "document %q is stored with %d passages and has no vectors", id, chunks[id])
		}
	}
	if idx, ok := g.vecs.(*hnsw.Index); ok {
		inMemory := idx.Passages()
		if !maps.Equal(inMemory, logged) {
			rep.add(filepath.Join(genDir, annSnapshotFile), "the vector index in memory holds %d documents, the log %d; restart to rebuild it", len(inMemory), len(logged))
		}
	}
	return nil
}

// readVectorLog reads the log's first committed bytes and returns the
// number of vectors each document has after them.
func readVectorLog(path string, committed int64) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.Size() < committed {
		return nil, fmt.Errorf("the file is %d bytes but the keyword index committed %d: it was truncated", info.Size(), committed)
	}
	out := map[string]int{}
	err = readRecords(io.NewSectionReader(f, 0, committed), func(rec vectorRecord) error {
		if rec.op == opDelete {
			delete(out, rec.id)
		} else {
			out[rec.id] = len(rec.vectors)
		}
		return nil
	})
	return out, err
}

func sortedKeys(m map[string]int) []string {
	return slices.Sorted(maps.Keys(m))
}

// segmentFooterSize is the smallest zap segment: its footer (bleve's zapx
// FooterSize, version 15 and later).
const segmentFooterSize = 4 + 4 + 4 + 8 + 8 + 8 + 8 + 8

// checkSegmentFile compares a keyword index segment (a zap file) with the
// CRC-32 its writer stored in its last four bytes, over everything before
// them. bleve checks only the footer's fields when it opens a segment, so
// without this a damaged segment can panic the process or answer wrongly.
func checkSegmentFile(path string) error {
	f, info, err := openSegmentFile(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sum := crc32.NewIEEE()
	if _, err := io.Copy(sum, io.NewSectionReader(f, 0, info.Size()-4)); err != nil {
		return fmt.Errorf("read segment: %w", err)
	}
	want, err := storedSegmentCRC(f, info.Size())
	if err != nil {
		return err
	}
	if got := sum.Sum32(); got != want {
		return fmt.Errorf("segment checksum is %08x, its footer says %08x: the file is damaged", got, want)
	}
	return nil
}

// openSegmentFile opens the segment file at path, which must hold at least
// a footer; the caller closes it.
func openSegmentFile(path string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err == nil && info.Size() < segmentFooterSize {
		err = fmt.Errorf("segment is %d bytes, shorter than its footer: it was truncated", info.Size())
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// storedSegmentCRC reads the checksum in the last four bytes of a segment
// of size bytes.
func storedSegmentCRC(f io.ReaderAt, size int64) (uint32, error) {
	var stored [4]byte
	if _, err := f.ReadAt(stored[:], size-4); err != nil {
		return 0, fmt.Errorf("read segment checksum: %w", err)
	}
	return binary.BigEndian.Uint32(stored[:]), nil
}

// bleve's scorch keeps its snapshots in root.bolt: bucket "s" holds one
// bucket per snapshot epoch, the newest last, and each holds one bucket per
// segment with the segment's file name under "p" (bleve/v2/index/scorch and
// bleve/v2/util/keys.go).
var (
	scorchRootFile        = filepath.Join("store", "root.bolt")
	scorchSnapshotsBucket = []byte{'s'}
	scorchPathKey         = []byte{'p'}
	// scorchInternalBucket holds a snapshot's internal values, among them
	// the index mapping bleve reads at open (util.MappingInternalKey).
	scorchInternalBucket = []byte{'i'}
	scorchMappingKey     = []byte("_mapping")
)

// checkKeywordIndex checks a keyword index before bleve opens it: that its
// root file reads and that every segment of its newest snapshot is present
// and matches its checksum. bleve itself would panic on some damage, and
// on other damage silently fall back to an older snapshot, losing
// acknowledged writes. The error names the damaged file. A segment that
// clean records as unchanged since a clean shutdown is not read
// (shutdown.go); clean is nil after a crash.
func checkKeywordIndex(kwDir string, clean *cleanShutdown) error {
	files, err := liveSegmentFiles(kwDir)
	if err != nil {
		return err
	}
	for _, name := range files {
		path := segmentPath(kwDir, name)
		if clean.unchanged(path) {
			continue
		}
		if err := checkSegmentFile(path); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// liveSegmentFiles checks that the root file of the keyword index in kwDir
// reads, and returns the segment files its newest snapshot names.
func liveSegmentFiles(kwDir string) (files []string, err error) {
	root := filepath.Join(kwDir, scorchRootFile)
	if _, err := os.Stat(root); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s is damaged (%v)", root, p)
		}
	}()
	// bolt maps the file and follows its page numbers: a damaged one can
	// point outside the mapping, which would kill the process with SIGSEGV
	// rather than panic. Make such a fault a panic, recovered above.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err := bolt.Open(root, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("%s is damaged: %w", root, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		snaps := tx.Bucket(scorchSnapshotsBucket)
		if snaps == nil {
			return nil
		}
		// Walk every snapshot, so that damage anywhere in the file shows
		// here rather than in bleve; the newest names the live segments.
		c := snaps.Cursor()
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			snap := snaps.Bucket(k)
			if snap == nil {
				continue
			}
			newest := files == nil
			err := snap.ForEachBucket(func(name []byte) error {
				p := snap.Bucket(name).Get(scorchPathKey)
				if p != nil && !isSegmentName(string(p)) {
					return fmt.Errorf("snapshot %x names segment %q, not a segment file", k, p)
				}
				if newest && p != nil {
					files = append(files, string(p))
				}
				return nil
			})
			if err == nil && newest {
				err = checkMapping(snap)
			}
			if err != nil {
				return err
			}
			if files == nil {
				files = []string{}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s is damaged: %w", root, err)
	}
	return files, nil
}

// isSegmentName reports whether name has the form scorch gives segment
// files (persister.go zapFileName: twelve hex digits and ".zap"), so that a
// name garbled inside root.bolt is blamed on root.bolt rather than on a
// segment file that was never written.
func isSegmentName(name string) bool {
	hex, ok := strings.CutSuffix(filepath.Base(name), ".zap")
	if !ok || len(hex) != 12 {
		return false
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// checkMapping checks that a snapshot keeps the index mapping among its
// internal values, as bleve writes it into every snapshot from the first,
// and that it is JSON: bleve parses it at open, and damage to it is damage
// to root.bolt.
func checkMapping(snap *bolt.Bucket) error {
	var m []byte
	if internal := snap.Bucket(scorchInternalBucket); internal != nil {
		m = internal.Get(scorchMappingKey)
	}
	if m == nil {
		return errors.New("its newest snapshot keeps no index mapping")
	}
	if !json.Valid(m) {
		return errors.New("the index mapping it keeps is not JSON")
	}
	return nil
}

// openKeywordIndex checks the keyword index of a generation and opens it.
// A panic inside bleve while it opens becomes an error naming the index.
func openKeywordIndex(kwDir string) (idx bleve.Index, err error) {
	clean, err := takeCleanShutdown(kwDir)
	if err != nil {
		return nil, err
	}
	if err := checkKeywordIndex(kwDir, clean); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			idx, err = nil, fmt.Errorf("%s is damaged (%v)", kwDir, p)
		}
	}()
	return bleve.Open(kwDir)
}

// RepairOptions configure Repair.
type RepairOptions struct {
	// Vectors and Embed are the embedding model the serving generation was
	// built with and a function embedding passages with it; Repair needs
	// them only to rebuild a damaged vector log from the stored text.
	Vectors store.VectorSpace
	Embed   func(ctx context.Context, texts []string) ([][]float32, error)
	// Logger receives what Repair does; nil discards it.
	Logger *slog.Logger
}

// Repair fixes the damage a data directory can recover from without the
// source documents, and returns what it did: a damaged CURRENT is pointed
// at the newest whole generation; a damaged or stale vector index snapshot
// is removed (the next open rebuilds it from the vector log); a damaged or
// truncated vector log is rebuilt by embedding the stored passages again.
// A damaged keyword index or manifest holds the documents themselves and
// cannot be repaired: the error says to reindex from the source. The data
// directory must not be open elsewhere.
func Repair(ctx context.Context, dir string, opts RepairOptions) (done []string, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// A missing directory is a mistyped path: nothing to repair, and no
	// directory to create for the lock. (A damaged or missing CURRENT
	// beside generations is what repair is for.)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w: the directory does not exist (check --data)", dir, ErrNoIndex)
	}
	lock, err := dirlock.Lock(dir, dirlock.Self(""))
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	name, fixed, err := repairCurrent(dir)
	if err != nil {
		return nil, err
	}
	if fixed != "" {
		done = append(done, fixed)
	}
	genDir := generationPath(dir, name)
	m, err := readManifest(genDir)
	if err != nil {
		return done, err
	}
	if m.Vectors.IsZero() {
		return done, nil
	}
	snap := filepath.Join(genDir, annSnapshotFile)
	if _, _, err := hnsw.ReadSnapshot(snap, m.Vectors.Dim, hnsw.DefaultParams()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		if err := os.Remove(snap); err != nil {
			return done, err
		}
		done = append(done, fmt.Sprintf("removed the damaged vector index snapshot %s (%v); the next start rebuilds it from the vector log", snap, err))
	}
	idx, err := openKeywordIndex(filepath.Join(genDir, keywordDir))
	if err != nil {
		return done, fmt.Errorf("%w; the keyword index holds the documents and cannot be repaired: reindex from the source (cari index into a fresh --data)", err)
	}
	defer idx.Close()
	committed, err := committedLogOffset(idx)
	if err != nil {
		return done, err
	}
	logName, err := logFileName(idx)
	if err != nil {
		return done, err
	}
	logPath := filepath.Join(genDir, logName)
	if _, err := readVectorLog(logPath, committed); err == nil {
		return done, nil
	} else if opts.Embed == nil || opts.Vectors != m.Vectors {
		return done, fmt.Errorf("%s: %w; rebuilding it needs the embedding model the index was built with, %s", logPath, err, m.Vectors)
	} else {
		opts.Logger.Warn("vector log is damaged; rebuilding it from the stored passages", "path", logPath, "err", err)
	}
	n, err := rebuildVectorLog(ctx, idx, logPath, m.Vectors, opts.Embed)
	if err != nil {
		return done, fmt.Errorf("rebuild %s: %w", logPath, err)
	}
	os.Remove(snap)
	return append(done, fmt.Sprintf("rebuilt the vector log %s from the %d stored documents", logPath, n)), nil
}

// repairCurrent returns the serving generation, first pointing CURRENT at
// the newest generation that opens when the one it names does not.
func repairCurrent(dir string) (name, done string, err error) {
	name, cerr := readCurrent(dir)
	if cerr == nil && name != "" && generationWhole(dir, name) == nil {
		return name, "", nil
	}
	entries, err := os.ReadDir(filepath.Join(dir, generationsDir))
	if err != nil {
		return "", "", err
	}
	var best Manifest
	for _, e := range entries {
		if !e.IsDir() || generationWhole(dir, e.Name()) != nil {
			continue
		}
		m, _ := readManifest(generationPath(dir, e.Name()))
		if best.Name == "" || m.Created.After(best.Created) {
			best = m
			best.Name = e.Name()
		}
	}
	if best.Name == "" {
		return "", "", fmt.Errorf("no generation in %s is whole; reindex from the source (cari index into a fresh --data)", filepath.Join(dir, generationsDir))
	}
	if err := writeCurrent(dir, best.Name); err != nil {
		return "", "", err
	}
	was := "missing"
	if cerr != nil || name != "" {
		was = fmt.Sprintf("it named %q", name)
		if cerr != nil {
			was = "it was damaged"
		}
	}
	return best.Name, fmt.Sprintf("pointed %s at generation %s, the newest whole one (%s)", filepath.Join(dir, currentFile), best.Name, was), nil
}

// generationWhole checks that a generation's manifest and keyword index
// read.
func generationWhole(dir, name string) error {
	if !generationName.MatchString(name) {
		return fmt.Errorf("%q is not a generation name", name)
	}
	genDir := generationPath(dir, name)
	if _, err := readManifest(genDir); err != nil {
		return err
	}
	return checkKeywordIndex(filepath.Join(genDir, keywordDir), nil)
}

// rebuildVectorLog embeds every stored passage again and replaces the log
// with one record per document, synced once when all are written, then
// commits its length in the keyword index. It returns the number of
// documents.
func rebuildVectorLog(ctx context.Context, idx bleve.Index, logPath string, space store.VectorSpace, embed func(context.Context, []string) ([][]float32, error)) (int, error) {
	adv, err := idx.Advanced()
	if err != nil {
		return 0, err
	}
	r, err := adv.Reader()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	docs, size := 0, int64(0)
	// The new log goes in place before the keyword index commits its
	// length; a crash between the two leaves a length that does not match,
	// which the next open reports, and running Repair again finishes.
	err = atomicfile.Write(logPath, 0o600, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		err := eachDocumentID(ctx, r, func(id string) error {
			vecs, err := embedStored(ctx, r, id, space, embed)
			if err != nil {
				return err
			}
			rec := appendRecord(nil, vectorRecord{op: opPut, id: id, vectors: vecs})
			if _, err := bw.Write(rec); err != nil {
				return err
			}
			size += int64(len(rec))
			docs++
			return nil
		})
		if err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return docs, err
	}
	return docs, idx.SetInternal(vlogKey, binary.LittleEndian.AppendUint64(nil, uint64(size)))
}

// embedStored embeds the passages of stored document id.
func embedStored(ctx context.Context, r index.IndexReader, id string, space store.VectorSpace, embed func(context.Context, []string) ([][]float32, error)) ([][]float32, error) {
	d, _, err := loadDocument(r, id)
	if err != nil {
		return nil, fmt.Errorf("document %q: %w", id, err)
	}
	texts := make([]string, len(d.Chunks))
	for i, c := range d.Chunks {
		texts[i] = cari.PassageText(d, c)
	}
	vecs, err := embed(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("embed document %q: %w", id, err)
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("document %q: %d passages embedded into %d vectors", id, len(texts), len(vecs))
	}
	for i, v := range vecs {
		if len(v) != space.Dim {
			return nil, fmt.Errorf("passage %d of %q embedded with %d dimensions, want %d", i, id, len(v), space.Dim)
		}
	}
	return vecs, nil
}
