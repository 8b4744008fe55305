package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari/store"
)

// TestCleanShutdownRecord checks the record that lets an open after a clean
// shutdown skip reading the segments: Close writes it naming every live
// segment, and Open consumes it, so that a crash while open leaves none.
func TestCleanShutdownRecord(t *testing.T) {
	dir, gen := filledVectorStore(t)
	kwDir := filepath.Join(dir, generationsDir, gen, keywordDir)
	live, err := liveSegmentFiles(kwDir)
	if err != nil || len(live) == 0 {
		t.Fatalf("live segments %v: %v", live, err)
	}
	rec := readCleanShutdown(t, kwDir)
	if rec == nil {
		t.Fatal("Close left no clean-shutdown record")
	}
	for _, name := range live {
		if !rec.unchanged(segmentPath(kwDir, name)) {
			t.Errorf("segment %s is not recorded as it is", name)
		}
	}
	s, err := Open(dir, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	if readCleanShutdown(t, kwDir) != nil {
		t.Error("the record is still there while the store is open: a crash now would skip the checks")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if readCleanShutdown(t, kwDir) == nil {
		t.Error("no record after the second Close")
	}
}

// TestOpenChecksSegmentsAfterUncleanShutdown damages a segment behind the
// clean-shutdown record's back (the record rewritten to match the damaged
// file, as undetected damage would leave it): the cheap checks pass it, as
// they must to stay cheap, and without the record, as a crash leaves the
// directory, the full check finds it. An open of a copy taken while the
// store was open (a crash) catches the damage too.
func TestOpenChecksSegmentsAfterUncleanShutdown(t *testing.T) {
	dir, gen := filledVectorStore(t)
	kwDir := filepath.Join(dir, generationsDir, gen, keywordDir)
	live, err := liveSegmentFiles(kwDir)
	if err != nil || len(live) == 0 {
		t.Fatalf("live segments %v: %v", live, err)
	}
	damaged := segmentPath(kwDir, live[0])
	flipByte(t, damaged, 0.5)
	if err := recordCleanShutdown(kwDir); err != nil {
		t.Fatal(err)
	}
	if err := checkKeywordIndex(kwDir, readCleanShutdown(t, kwDir)); err != nil {
		t.Errorf("after a clean shutdown the checks read the segments in full: %v", err)
	}
	if err := checkKeywordIndex(kwDir, nil); err == nil || !strings.Contains(err.Error(), damaged) {
		t.Errorf("full check of a damaged segment: %v, want an error naming %s", err, damaged)
	}

	// A crash: the directory as a running store leaves it.
	dir, gen = filledVectorStore(t)
	s, err := Open(dir, Options{Vectors: space3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Upsert(context.Background(), []store.Entry{vecEntry("late", "example.com", []float32{3, 1, 2})}); err != nil {
		t.Fatal(err)
	}
	crashed := t.TempDir()
	if err := os.CopyFS(crashed, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	kwDir = filepath.Join(crashed, generationsDir, gen, keywordDir)
	if readCleanShutdown(t, kwDir) != nil {
		t.Fatal("a running store's directory holds a clean-shutdown record")
	}
	live, err = liveSegmentFiles(kwDir)
	if err != nil || len(live) == 0 {
		t.Fatalf("live segments %v: %v", live, err)
	}
	for _, name := range live {
		flipByte(t, segmentPath(kwDir, name), 0.5)
	}
	if s2, err := Open(crashed, Options{Vectors: space3}); err == nil {
		s2.Close()
		t.Fatal("Open after a crash did not catch a damaged segment")
	} else if !strings.Contains(err.Error(), filepath.Join(keywordDir, "store")) {
		t.Errorf("error %q does not name the damaged segment", err)
	}
}

// readCleanShutdown reads the record without consuming it.
func readCleanShutdown(t *testing.T, kwDir string) *cleanShutdown {
	t.Helper()
	path := cleanShutdownPath(kwDir)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), keywordDir)
	if err := os.WriteFile(cleanShutdownPath(tmp), b, 0o600); err != nil {
		t.Fatal(err)
	}
	rec, err := takeCleanShutdown(tmp)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}
