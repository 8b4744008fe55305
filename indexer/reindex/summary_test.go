package reindex

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari/store"
)

func TestProgressSummary(t *testing.T) {
	p := Progress{Generation: "g2", Done: 7, Total: -1, Indexed: 5, Failed: 2, Rate: 3.4, Errors: map[string]int64{"parse": 1, "invalid": 1}}
	if got := p.TotalString(); got != "unknown" {
		t.Errorf("TotalString of an uncounted source = %q", got)
	}
	if got := p.FailureReasons(); got != " (invalid 1, parse 1)" {
		t.Errorf("FailureReasons = %q", got)
	}
	if got := fmt.Sprint(p.LogAttrs()); got != "[generation g2 done 7 total unknown indexed 5 failed 2 per_second 3]" {
		t.Errorf("LogAttrs = %s", got)
	}
	p.Total, p.Errors, p.ETA = 10, nil, 1500*time.Millisecond
	if p.TotalString() != "10" || p.FailureReasons() != "" {
		t.Errorf("TotalString %q, FailureReasons %q", p.TotalString(), p.FailureReasons())
	}
	if got := fmt.Sprint(p.LogAttrs()); got != "[generation g2 done 7 total 10 indexed 5 failed 2 per_second 3 eta 2s]" {
		t.Errorf("LogAttrs with an ETA = %s", got)
	}
}

func TestRollbackNote(t *testing.T) {
	m := store.VectorSpace{Model: "static/m@1", Dim: 4}
	gens := []store.Generation{
		{Name: "g1", Analyzer: "a1", Vectors: m},
		{Name: "g2", Analyzer: "a1", Vectors: m},
		{Name: "g3", Analyzer: "a2", Vectors: store.VectorSpace{Model: "static/m@2", Dim: 4}},
	}
	for _, tc := range []struct{ before, now, want string }{
		{"g1", "g2", "g1 is kept for cari reindex --rollback"},
		{"g1", "gone", "g1 is kept for cari reindex --rollback"},
		{"g2", "g3", "g2 is kept, but was built with another analyzer and embedding model, which this build does not serve: a rollback to it needs the build that made it (cari gc removes it)"},
	} {
		if got := rollbackNote(gens, tc.before, tc.now); got != tc.want {
			t.Errorf("rollbackNote(%s, %s) = %q, want %q", tc.before, tc.now, got, tc.want)
		}
	}
}

func TestWriteGenerations(t *testing.T) {
	var b strings.Builder
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	err := WriteGenerations(&b, []store.Generation{
		{Name: "gen-1", State: store.GenerationServing, Created: created, SizeBytes: 3 << 20, Source: "corpus x.jsonl"},
		{Name: "gen-0", State: store.GenerationRetired, Created: created},
	})
	want := "gen-1                        serving  created 2026-01-02T03:04:05Z      3.0 MiB  vectors none (keyword only)  source corpus x.jsonl\n" +
		"gen-0                        retired  created 2026-01-02T03:04:05Z      0.0 MiB  vectors none (keyword only)\n"
	if err != nil || b.String() != want {
		t.Errorf("WriteGenerations:\n%s\nwant\n%s", b.String(), want)
	}
}

// TestReporterPhases: a log line at each change of phase, none for more
// progress within one.
func TestReporterPhases(t *testing.T) {
	var logs strings.Builder
	r := NewReporter(slog.New(slog.NewTextHandler(&logs, nil)), time.Hour)
	for _, p := range []Phase{Preparing, Indexing, Indexing, Finalizing, Swapping, Done} {
		r.Report(Progress{Phase: p, Generation: "g9", Total: 10})
	}
	r.Finish()
	var phases []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if _, rest, ok := strings.Cut(line, "phase="); ok {
			phases = append(phases, strings.Fields(rest)[0])
		}
	}
	if got := strings.Join(phases, " "); got != "preparing indexing finalizing swapping done" {
		t.Errorf("phase lines %q\n%s", got, logs.String())
	}
}

func TestProgressWriteSummary(t *testing.T) {
	p := Progress{Generation: "g2", Done: 10, Indexed: 8, Skipped: 1, Failed: 1, Errors: map[string]int64{"parse": 1}, Elapsed: 2 * time.Second, Rate: 5}
	var b strings.Builder
	if err := p.WriteSummary(&b, "corpus c.jsonl", "g1", nil); err != nil {
		t.Fatal(err)
	}
	want := "reindexed corpus c.jsonl into generation g2: 10 source records; this run indexed 8 documents, skipped 1, failed 1 (parse 1) in 2.0s (5 records/s)\n" +
		"generation g2 serves now; g1 is kept for cari reindex --rollback\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	p.Resumed, p.Start = true, 4
	b.Reset()
	p.WriteSummary(&b, "corpus c.jsonl", "g1", nil)
	if !strings.Contains(b.String(), "\nresumed an unfinished build after its first 4 records\ngeneration g2") {
		t.Errorf("resumed:\n%s", b.String())
	}
}
