package crawler

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestStateIsLocked(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := OpenState(dir); !errors.Is(err, ErrStateLocked) {
		t.Errorf("second OpenState: %v, want ErrStateLocked", err)
	}
}

func TestSeenMarkRoundTrip(t *testing.T) {
	for _, m := range []seenMark{{markQueued, 0}, {markDone, 3}, {markDepthSkipped, 300}} {
		if got := decodeSeen(m.encode()); got != m {
			t.Errorf("decodeSeen(encode(%v)) = %v", m, got)
		}
	}
}

// TestJobIDsAreUnique starts crawls of the same seeds within one second:
// each gets an ID of its own, which still says what it crawled and when.
func TestJobIDsAreUnique(t *testing.T) {
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fp := strings.Repeat("5355b83c", 8)
	start := time.Date(2026, 11, 27, 12, 9, 14, 0, time.UTC)
	seen := make(map[string]bool)
	for i := range 3 {
		j, err := st.startJob(fp, start.Add(time.Duration(i)*time.Millisecond), true)
		if err != nil {
			t.Fatal(err)
		}
		if seen[j.meta.ID] {
			t.Errorf("crawl %d got the ID %q of an earlier crawl", i, j.meta.ID)
		}
		seen[j.meta.ID] = true
		if !strings.HasPrefix(j.meta.ID, "5355b83c5355-20261127t120914-") {
			t.Errorf("crawl %d: ID %q, want the fingerprint and the start second first", i, j.meta.ID)
		}
	}
}

// TestJobWithOldIDResumes: a crawl interrupted before job IDs were numbered
// is resumed under the ID it started with.
func TestJobWithOldIDResumes(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fp := strings.Repeat("5355b83c", 8)
	old := jobMeta{ID: "5355b83c5355-20261127t120914", Fingerprint: fp, Started: time.Date(2026, 11, 27, 12, 9, 14, 0, time.UTC), NextSeq: 2}
	err = st.db.Update(func(tx *bolt.Tx) error {
		jb, err := tx.CreateBucket(jobBucket(old.ID))
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bucketQueue, bucketSeen, bucketHosts} {
			if _, err := jb.CreateBucket(b); err != nil {
				return err
			}
		}
		if err := putJSON(jb.Bucket(bucketQueue), seqKey(1), entry{URL: "https://a.example/"}); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketJobs), []byte(fp), old)
	})
	if err != nil {
		t.Fatal(err)
	}
	j, err := st.startJob(fp, time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	if !j.resumed || j.meta.ID != old.ID || len(j.queue) != 1 {
		t.Errorf("resumed %v, ID %q, %d queued; want the old job resumed as %q with its queue", j.resumed, j.meta.ID, len(j.queue), old.ID)
	}
}

// TestOpenOwnsState: Open checks the options before it touches the state
// directory, holds the state's lock until Close, and Close releases it.
func TestOpenOwnsState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "crawl")
	if _, err := Open(dir, &memSink{}, Options{}); err == nil {
		t.Fatal("Open without seeds: no error")
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("invalid options created the state directory: %v", err)
	}
	opts := Options{Seeds: []string{"http://127.0.0.1:1/"}, AllowPrivate: true}
	c, err := Open(dir, &memSink{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, &memSink{}, opts); !errors.Is(err, ErrStateLocked) {
		t.Errorf("second Open: %v, want ErrStateLocked", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = Open(dir, &memSink{}, opts)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	c.Close()
}

func TestDepth(t *testing.T) {
	for d, want := range map[int]int{0: SeedsOnly, 1: 1, MaxDepthLimit: MaxDepthLimit} {
		if got, err := Depth(d); got != want || err != nil {
			t.Errorf("Depth(%d) = %d, %v; want %d", d, got, err, want)
		}
	}
	for _, d := range []int{-1, MaxDepthLimit + 1} {
		if _, err := Depth(d); err == nil || !strings.HasPrefix(err.Error(), "max_depth: must be between 0 and 100") {
			t.Errorf("Depth(%d): %v", d, err)
		}
	}
}

// TestNewSaysWhenNoContact: a crawl that names no contact says whom the
// User-Agent names instead.
func TestNewSaysWhenNoContact(t *testing.T) {
	var logs strings.Builder
	opts := Options{Seeds: []string{"http://127.0.0.1:1/"}, AllowPrivate: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if _, err := New(nil, &memSink{}, opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "no contact given; the User-Agent names "+DefaultContact) {
		t.Errorf("no line about the contact:\n%s", logs.String())
	}
	logs.Reset()
	opts.Contact = "ops@example.org"
	New(nil, &memSink{}, opts)
	if strings.Contains(logs.String(), "no contact") {
		t.Errorf("a contact was given:\n%s", logs.String())
	}
}
