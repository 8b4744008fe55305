package embeddings

import (
	"context"
	"encoding/binary"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestCache(t *testing.T) {
	dir := t.TempDir()
	f := &fakeEncoder{dim: 8}
	p := fakeProvider(f, 4, 2)
	var err error
	if p.cache, err = openCache(dir, p.info, 1<<20); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	texts := numbered(10)
	first, err := p.EmbedDocuments(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	calls := f.calls()
	again, err := p.EmbedDocuments(ctx, append(texts, "new text"))
	if err != nil {
		t.Fatal(err)
	}
	if f.calls() != calls+1 || len(f.batches[calls]) != 1 {
		t.Errorf("second run: %d calls, want one for the new text", f.calls()-calls)
	}
	for i := range first {
		if cos(first[i], again[i]) != 1 {
			t.Fatalf("cached vector %d differs", i)
		}
	}
	// The query side has its own keys.
	if _, err := p.EmbedQuery(ctx, texts[3]); err != nil || f.calls() != calls+2 {
		t.Errorf("query: %v, %d calls", err, f.calls()-calls)
	}
	p.Close()

	// Reopened, the vectors are still there; another model does not see them.
	f2 := &fakeEncoder{dim: 8}
	p2 := fakeProvider(f2, 4, 1)
	if p2.cache, err = openCache(dir, p2.info, 1<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := p2.EmbedDocuments(ctx, texts); err != nil || f2.calls() != 0 {
		t.Errorf("after reopening: %v, %d calls", err, f2.calls())
	}
	p2.Close()
	f3 := &fakeEncoder{dim: 8}
	p3 := fakeProvider(f3, 100, 1)
	p3.info.Version = "v2"
	if p3.cache, err = openCache(dir, p3.info, 1<<20); err != nil {
		t.Fatal(err)
	}
	defer p3.Close()
	if _, err := p3.EmbedDocuments(ctx, texts); err != nil || f3.calls() != 1 {
		t.Errorf("another model: %v, %d calls", err, f3.calls())
	}
}

func TestCacheEvictsOldest(t *testing.T) {
	f := &fakeEncoder{dim: 8}
	p := fakeProvider(f, 100, 1)
	// Room for 5 vectors of 8 dimensions.
	c, err := openCache(t.TempDir(), p.info, 5*(4*8+cacheEntryOverhead))
	if err != nil {
		t.Fatal(err)
	}
	p.cache = c
	defer p.Close()
	ctx := context.Background()
	texts := numbered(12)
	for i := range texts {
		if _, err := p.EmbedDocuments(ctx, texts[i:i+1]); err != nil {
			t.Fatal(err)
		}
	}
	var count, vectors int
	c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(c.bucket)
		count = int(binary.BigEndian.Uint64(b.Get(keyCount)))
		vectors = b.Bucket(bucketVectors).Stats().KeyN
		return nil
	})
	if count != 5 || vectors != 5 {
		t.Errorf("count %d, %d vectors; want 5", count, vectors)
	}
	calls := f.calls()
	if _, err := p.EmbedDocuments(ctx, texts[7:]); err != nil || f.calls() != calls {
		t.Errorf("the newest 5 should be cached: %v, %d calls", err, f.calls()-calls)
	}
	if _, err := p.EmbedDocuments(ctx, texts[:1]); err != nil || f.calls() != calls+1 {
		t.Errorf("the oldest should be evicted: %v", err)
	}
}

func TestCacheInUse(t *testing.T) {
	dir := t.TempDir()
	info := ModelInfo{Provider: "fake", Name: "m", Version: "1", Dim: 4}
	c, err := openCache(dir, info, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if _, err := openCache(dir, info, 1<<20); err == nil {
		t.Error("a second open of the same cache should fail")
	}
}
