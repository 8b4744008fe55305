package embeddings

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The cache is one bbolt file, CacheDir/vectors.bolt. Each model (its ID
// and dimension) has a bucket holding
//
//	v/   SHA-256(side byte, exact model input) -> float32 little-endian vector
//	seq/ big-endian insertion number -> key in v/, oldest first
//	n    number of vectors, big-endian uint64
//
// When a model's vectors would pass the byte bound, the oldest are
// evicted. Other models' buckets stay (an operator may switch back); bbolt
// reuses freed pages but never shrinks its file, so the file stays about
// as large as its largest contents. Deleting the directory clears it.
const cacheFile = "vectors.bolt"

var (
	bucketVectors = []byte("v")
	bucketOrder   = []byte("seq")
	keyCount      = []byte("n")
)

// cacheEntryOverhead approximates a cached vector's bytes beyond its
// values: two keys, the order entry and bbolt's per-item headers.
const cacheEntryOverhead = 32 + 8 + 32 + 64

type cache struct {
	db         *bolt.DB
	bucket     []byte
	dim        int
	maxEntries uint64
}

// openCache opens (creating) the cache in dir for the model.
func openCache(dir string, info ModelInfo, maxBytes int64) (*cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedding cache: %w", err)
	}
	path := filepath.Join(dir, cacheFile)
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("embedding cache %s is in use by another process", path)
	}
	if err != nil {
		return nil, fmt.Errorf("embedding cache %s: %w", path, err)
	}
	c := &cache{
		db:         db,
		bucket:     fmt.Appendf(nil, "%s/%d", info.ID(), info.Dim),
		dim:        info.Dim,
		maxEntries: uint64(max(1, maxBytes/int64(4*info.Dim+cacheEntryOverhead))),
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(c.bucket)
		if err != nil {
			return err
		}
		if _, err := b.CreateBucketIfNotExists(bucketVectors); err != nil {
			return err
		}
		_, err = b.CreateBucketIfNotExists(bucketOrder)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("embedding cache %s: %w", path, err)
	}
	return c, nil
}

func (c *cache) close() error { return c.db.Close() }

// cacheKey is the key of one model input on one side.
func cacheKey(s side, input string) []byte {
	h := sha256.New()
	h.Write([]byte{byte(s)})
	h.Write([]byte(input))
	return h.Sum(nil)
}

// get fills out[i] for every cached input and returns the indexes of the
// others. A read failure makes every input a miss.
func (c *cache) get(s side, inputs []string, out [][]float32) (missing []int) {
	err := c.db.View(func(tx *bolt.Tx) error {
		vb := tx.Bucket(c.bucket).Bucket(bucketVectors)
		for i, in := range inputs {
			if v := vb.Get(cacheKey(s, in)); len(v) == 4*c.dim {
				out[i] = decodeVector(v)
			} else {
				missing = append(missing, i)
			}
		}
		return nil
	})
	if err != nil {
		missing = missing[:0]
		for i := range inputs {
			out[i] = nil
			missing = append(missing, i)
		}
	}
	return missing
}

// put stores vectors in one transaction and evicts the oldest beyond the
// bound.
func (c *cache) put(s side, inputs []string, vecs [][]float32) error {
	return c.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(c.bucket)
		vb, ob := b.Bucket(bucketVectors), b.Bucket(bucketOrder)
		var count uint64
		if n := b.Get(keyCount); len(n) == 8 {
			count = binary.BigEndian.Uint64(n)
		}
		for i, in := range inputs {
			key := cacheKey(s, in)
			if vb.Get(key) != nil {
				continue
			}
			if err := vb.Put(key, encodeVector(vecs[i])); err != nil {
				return err
			}
			seq, err := ob.NextSequence()
			if err != nil {
				return err
			}
			if err := ob.Put(binary.BigEndian.AppendUint64(nil, seq), key); err != nil {
				return err
			}
			count++
		}
		for cur := ob.Cursor(); count > c.maxEntries; count-- {
			k, v := cur.First()
			if k == nil {
				break
			}
			if err := vb.Delete(v); err != nil {
				return err
			}
			if err := cur.Delete(); err != nil {
				return err
			}
		}
		return b.Put(keyCount, binary.BigEndian.AppendUint64(nil, count))
	})
}

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
