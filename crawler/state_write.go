package crawler

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/cari-search/cari"
)

// commitBatch is the outcome of a group of fetches, written in one
// transaction: the frontier and seen-set changes, the pages' records and
// fingerprints, the documents to index, and the job's counters.
type commitBatch struct {
	queuePut    []*entry
	queueDelete []uint64
	seen        map[string]seenMark
	hosts       map[string]byte // host -> all its flags
	records     map[string]*urlRecord
	hashPut     map[string]string
	hashDelete  []string
	simPut      []simEntry
	simDelete   []simEntry
	docs        []cari.Document
	counters    counters
	meta        *jobMeta // when set, replaces the job's meta
}

func newCommitBatch() *commitBatch {
	return &commitBatch{
		seen:    make(map[string]seenMark),
		hosts:   make(map[string]byte),
		records: make(map[string]*urlRecord),
		hashPut: make(map[string]string),
	}
}

func simKey(e simEntry) []byte {
	return append(binary.BigEndian.AppendUint64(nil, e.fp), e.url...)
}

func (s *State) commit(meta jobMeta, b *commitBatch) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		jb := tx.Bucket(jobBucket(meta.ID))
		if jb == nil {
			return fmt.Errorf("job %s has no bucket", meta.ID)
		}
		q, seen, hosts := jb.Bucket(bucketQueue), jb.Bucket(bucketSeen), jb.Bucket(bucketHosts)
		for _, seq := range b.queueDelete {
			if err := q.Delete(seqKey(seq)); err != nil {
				return err
			}
		}
		for _, e := range b.queuePut {
			if err := putJSON(q, seqKey(e.seq), e); err != nil {
				return err
			}
		}
		for u, m := range b.seen {
			if err := seen.Put([]byte(u), m.encode()); err != nil {
				return err
			}
		}
		for h, flags := range b.hosts {
			if err := hosts.Put([]byte(h), []byte{flags}); err != nil {
				return err
			}
		}
		urls, hashes, sims, pending := tx.Bucket(bucketURLs), tx.Bucket(bucketHashes), tx.Bucket(bucketSimHash), tx.Bucket(bucketPending)
		for u, r := range b.records {
			if err := putJSON(urls, []byte(u), r); err != nil {
				return err
			}
		}
		for _, h := range b.hashDelete {
			if err := hashes.Delete([]byte(h)); err != nil {
				return err
			}
		}
		for h, u := range b.hashPut {
			if err := hashes.Put([]byte(h), []byte(u)); err != nil {
				return err
			}
		}
		for _, e := range b.simDelete {
			if err := sims.Delete(simKey(e)); err != nil {
				return err
			}
		}
		for _, e := range b.simPut {
			if err := sims.Put(simKey(e), nil); err != nil {
				return err
			}
		}
		for _, d := range b.docs {
			if err := putJSON(pending, []byte(d.ID), d); err != nil {
				return err
			}
		}
		if err := putJSON(jb, keyCounters, b.counters); err != nil {
			return err
		}
		if b.meta != nil {
			return putJSON(tx.Bucket(bucketJobs), []byte(b.meta.Fingerprint), b.meta)
		}
		return nil
	})
}

// ack records that the index has stored the documents with these IDs.
func (s *State) ack(jobID string, ids []string, a acked) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		pending := tx.Bucket(bucketPending)
		for _, id := range ids {
			if err := pending.Delete([]byte(id)); err != nil {
				return err
			}
		}
		if jb := tx.Bucket(jobBucket(jobID)); jb != nil {
			return putJSON(jb, keyAcked, a)
		}
		return nil
	})
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

func getJSON(b *bolt.Bucket, key []byte, v any) error {
	raw := b.Get(key)
	if raw == nil {
		return nil
	}
	return json.Unmarshal(raw, v)
}
