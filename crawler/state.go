package crawler

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/cari-search/cari"
)

// StateFile is the name of the crawl state file inside a crawl state
// directory (DATA/crawl).
const StateFile = "state.db"

// ErrStateLocked is returned by OpenState when another process has the
// crawl state open.
var ErrStateLocked = errors.New("crawl state is in use by another process")

// Top-level buckets. Jobs hold one crawl's frontier and seen set; the
// others describe what the index holds and outlive any one crawl.
var (
	bucketJobs    = []byte("jobs")    // fingerprint -> jobMeta
	bucketURLs    = []byte("urls")    // canonical URL -> urlRecord
	bucketHashes  = []byte("hashes")  // content hash -> canonical URL that owns it
	bucketSimHash = []byte("simhash") // 8-byte fingerprint + URL -> nothing
	bucketPending = []byte("pending") // document ID -> document fetched, not yet acknowledged by the index
	bucketQueue   = []byte("queue")   // (in a job) 8-byte sequence -> entry
	bucketSeen    = []byte("seen")    // (in a job) canonical URL -> seenMark
	bucketHosts   = []byte("hosts")   // (in a job) host -> hostFlags
	keyCounters   = []byte("counters")
	keyAcked      = []byte("acked")
)

// State is the persistent crawl state of one data directory: each crawl's
// frontier and seen set, the validators (ETag, Last-Modified) and content
// fingerprints of every page indexed, and the documents fetched but not
// yet acknowledged by the index. One bbolt file; every change is one
// transaction, so a crawl killed at any moment finds a consistent state.
type State struct {
	db *bolt.DB
}

// OpenState opens (creating if needed) the crawl state in dir.
func OpenState(dir string) (*State, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create crawl state directory: %w", err)
	}
	path := filepath.Join(dir, StateFile)
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second, NoFreelistSync: true})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%s: %w", path, ErrStateLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open crawl state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketJobs, bucketURLs, bucketHashes, bucketSimHash, bucketPending} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise crawl state: %w", err)
	}
	return &State{db: db}, nil
}

// Close closes the state file.
func (s *State) Close() error { return s.db.Close() }

// jobMeta describes one crawl job: a crawl with given seeds and scope,
// from its start until it ends (frontier empty or max pages), across any
// number of interruptions.
type jobMeta struct {
	ID          string    `json:"id"`
	Fingerprint string    `json:"fingerprint"`
	Started     time.Time `json:"started"`
	Done        bool      `json:"done"`
	StopReason  string    `json:"stop_reason,omitempty"`
	NextSeq     uint64    `json:"next_seq"`
}

// counters are a job's totals as the committer persists them.
type counters struct {
	Fetched int64            `json:"fetched"`
	Retries int64            `json:"retries"`
	Bytes   int64            `json:"bytes"`
	Hosts   int64            `json:"hosts"`
	Skipped map[string]int64 `json:"skipped"`
	Errors  map[string]int64 `json:"errors"`
}

func (c counters) clone() counters {
	out := c
	out.Skipped = cloneMap(c.Skipped)
	out.Errors = cloneMap(c.Errors)
	return out
}

func cloneMap(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// acked are a job's totals as the index acknowledges them.
type acked struct {
	Indexed  int64 `json:"indexed"`
	Rejected int64 `json:"rejected"`
}

// urlRecord is what Cari remembers about a page it fetched: validators
// for a conditional GET on the next crawl, the fingerprints of the content
// it indexed, and the links it found (a 304 answer has no body to find
// them in).
type urlRecord struct {
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Hash         string    `json:"hash,omitempty"`
	SimHash      uint64    `json:"simhash,omitempty"`
	HasSimHash   bool      `json:"has_simhash,omitempty"`
	Fetched      time.Time `json:"fetched"`
	Links        []string  `json:"links,omitempty"`
}

// Host flags, kept per job.
const (
	hostSitemapsRead byte = 1 << iota // its sitemaps were read
	hostFetched                       // a page of it answered
)

// Seen-set marks. A URL skipped only for its depth may be admitted again
// when it is found nearer a seed.
const (
	markQueued       byte = 'q'
	markDone         byte = 'd'
	markSkipped      byte = 's'
	markDepthSkipped byte = 'D'
)

type seenMark struct {
	mark  byte
	depth int
}

func (m seenMark) encode() []byte {
	return binary.AppendUvarint([]byte{m.mark}, uint64(m.depth))
}

func decodeSeen(b []byte) seenMark {
	if len(b) == 0 {
		return seenMark{}
	}
	d, _ := binary.Uvarint(b[1:])
	return seenMark{mark: b[0], depth: int(d)}
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// jobID names a crawl job for logs and progress reports: what it crawled
// (the scope's fingerprint), when it started (to the second, UTC) and its
// number among the jobs of this crawl state, so that two crawls of the
// same seeds started within one second are still told apart. Jobs started
// before the number was added keep their IDs: an ID is stored, never parsed.
func jobID(fingerprint string, started time.Time, number uint64) string {
	return fmt.Sprintf("%s-%s-%d", fingerprint[:12], started.UTC().Format("20060102t150405"), number)
}

func jobBucket(id string) []byte { return []byte("job:" + id) }

// loadedJob is a job as read back from the state file.
type loadedJob struct {
	meta     jobMeta
	counters counters
	acked    acked
	resumed  bool
	seen     map[string]seenMark
	queue    []*entry
	hosts    map[string]byte
}

// startJob resumes the unfinished job with this fingerprint or starts a
// new one (dropping a finished one's frontier). fresh drops an unfinished
// job too.
func (s *State) startJob(fingerprint string, now time.Time, fresh bool) (*loadedJob, error) {
	j := &loadedJob{seen: make(map[string]seenMark), hosts: make(map[string]byte)}
	err := s.db.Update(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bucketJobs)
		if raw := jobs.Get([]byte(fingerprint)); raw != nil {
			if err := json.Unmarshal(raw, &j.meta); err != nil {
				return fmt.Errorf("job %s: %w", fingerprint, err)
			}
			if !j.meta.Done && !fresh {
				j.resumed = true
				return nil
			}
			if err := tx.DeleteBucket(jobBucket(j.meta.ID)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return err
			}
		}
		number, err := jobs.NextSequence()
		if err != nil {
			return err
		}
		j.meta = jobMeta{
			ID:          jobID(fingerprint, now, number),
			Fingerprint: fingerprint,
			Started:     now.UTC(),
		}
		jb, err := tx.CreateBucket(jobBucket(j.meta.ID))
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bucketQueue, bucketSeen, bucketHosts} {
			if _, err := jb.CreateBucket(b); err != nil {
				return err
			}
		}
		return putJSON(jobs, []byte(fingerprint), j.meta)
	})
	if err != nil {
		return nil, fmt.Errorf("start crawl job: %w", err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		jb := tx.Bucket(jobBucket(j.meta.ID))
		if jb == nil {
			return fmt.Errorf("job %s has no bucket", j.meta.ID)
		}
		if err := getJSON(jb, keyCounters, &j.counters); err != nil {
			return err
		}
		if err := getJSON(jb, keyAcked, &j.acked); err != nil {
			return err
		}
		if err := jb.Bucket(bucketSeen).ForEach(func(k, v []byte) error {
			j.seen[string(k)] = decodeSeen(v)
			return nil
		}); err != nil {
			return err
		}
		if err := jb.Bucket(bucketHosts).ForEach(func(k, v []byte) error {
			if len(v) > 0 {
				j.hosts[string(k)] = v[0]
			}
			return nil
		}); err != nil {
			return err
		}
		return jb.Bucket(bucketQueue).ForEach(func(k, v []byte) error {
			e := &entry{}
			if err := json.Unmarshal(v, e); err != nil {
				return fmt.Errorf("queue entry: %w", err)
			}
			e.seq = binary.BigEndian.Uint64(k)
			j.queue = append(j.queue, e)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load crawl job %s: %w", j.meta.ID, err)
	}
	if j.counters.Skipped == nil {
		j.counters.Skipped = make(map[string]int64)
	}
	if j.counters.Errors == nil {
		j.counters.Errors = make(map[string]int64)
	}
	return j, nil
}

// dedupIndex is the content fingerprints of every page in the index.
type dedupIndex struct {
	hashes map[string]string // content hash -> URL
	sims   *simIndex
}

func (s *State) loadDedup() (*dedupIndex, error) {
	d := &dedupIndex{hashes: make(map[string]string), sims: newSimIndex()}
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketHashes).ForEach(func(k, v []byte) error {
			d.hashes[string(k)] = string(v)
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketSimHash).ForEach(func(k, _ []byte) error {
			if len(k) > 8 {
				d.sims.add(binary.BigEndian.Uint64(k), string(k[8:]))
			}
			return nil
		})
	})
	return d, err
}

// pendingDocs returns the documents fetched but never acknowledged by the
// index (a crawl stopped between the two).
func (s *State) pendingDocs() ([]cari.Document, error) {
	var docs []cari.Document
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPending).ForEach(func(_, v []byte) error {
			var d cari.Document
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			docs = append(docs, d)
			return nil
		})
	})
	return docs, err
}

// urlRecords returns the records of urls that have one.
func (s *State) urlRecords(urls []string) (map[string]*urlRecord, error) {
	out := make(map[string]*urlRecord)
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketURLs)
		for _, u := range urls {
			if raw := b.Get([]byte(u)); raw != nil {
				r := &urlRecord{}
				if err := json.Unmarshal(raw, r); err != nil {
					return fmt.Errorf("record of %s: %w", u, err)
				}
				out[u] = r
			}
		}
		return nil
	})
	return out, err
}
