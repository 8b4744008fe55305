package crawler

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestReadSeeds(t *testing.T) {
	p := filepath.Join(t.TempDir(), "seeds.txt")
	if err := os.WriteFile(p, []byte("# docs\nhttps://a.example/\n\n  https://b.example/x  \n#https://c.example/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSeeds(p)
	if want := []string{"https://a.example/", "https://b.example/x"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ReadSeeds = %q, %v; want %q", got, err, want)
	}
	if _, err := ReadSeeds(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("a missing seeds file was read")
	}
}

func TestProgressSummary(t *testing.T) {
	p := Progress{CrawlID: "c1", Done: true, StopReason: StopMaxPages, Fetched: 12, FetchedThisRun: 4, Elapsed: 2 * time.Second,
		PagesPerSecond: 2, Indexed: 10, Queued: 3, Skipped: map[string]int64{"robots": 2, "duplicate": 1}, Errors: map[string]int64{"timeout": 1}}
	var b bytes.Buffer
	p.WriteSummary(&b)
	want := "crawl c1 finished (max pages): fetched 12 pages (4 in this run, 2.0s, 2.0 pages/s), indexed 10, 3 queued\n" +
		"skipped: duplicate 1, robots 2\nerrors: timeout 1\n"
	if b.String() != want {
		t.Errorf("summary\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := p.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil || m["stop_reason"] != "max_pages" || m["elapsed_seconds"] != 2.0 || m["fetched_this_run"] != 4.0 {
		t.Errorf("JSON summary %s (%v)", b.String(), err)
	}
	if got := p.Line(); got != "2.0 pages/s, 12 fetched, 3 queued, 10 indexed, 1 errors" {
		t.Errorf("Line = %q", got)
	}
}
