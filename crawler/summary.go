package crawler

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// ReadSeeds reads a file of seed URLs, one a line; blank lines and lines
// starting with # are passed over.
func ReadSeeds(path string) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var seeds []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			seeds = append(seeds, line)
		}
	}
	return seeds, sc.Err()
}

// WriteJSON writes the progress as one JSON object, the summary that
// cari crawl --json prints, with snake_case keys and seconds.
func (p Progress) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(map[string]any{
		"crawl_id":         p.CrawlID,
		"resumed":          p.Resumed,
		"done":             p.Done,
		"stop_reason":      p.StopReason,
		"fetched":          p.Fetched,
		"indexed":          p.Indexed,
		"queued":           p.Queued,
		"skipped":          p.Skipped,
		"errors":           p.Errors,
		"retries":          p.Retries,
		"bytes_fetched":    p.BytesFetched,
		"hosts":            p.Hosts,
		"fetched_this_run": p.FetchedThisRun,
		"elapsed_seconds":  p.Elapsed.Seconds(),
		"pages_per_second": p.PagesPerSecond,
	})
}

// WriteSummary writes the progress for a reader: a line of totals, then
// a line each for the skipped and failed URLs by reason, when there are
// any.
func (p Progress) WriteSummary(w io.Writer) {
	state := "interrupted"
	if p.Done {
		state = "finished (" + strings.ReplaceAll(string(p.StopReason), "_", " ") + ")"
	}
	fmt.Fprintf(w, "crawl %s %s: fetched %d pages (%d in this run, %.1fs, %.1f pages/s), indexed %d, %d queued\n",
		p.CrawlID, state, p.Fetched, p.FetchedThisRun, p.Elapsed.Seconds(), p.PagesPerSecond, p.Indexed, p.Queued)
	for _, part := range []struct {
		name string
		m    map[string]int64
	}{{"skipped", p.Skipped}, {"errors", p.Errors}} {
		if len(part.m) == 0 {
			continue
		}
		var items []string
		for _, k := range slices.Sorted(maps.Keys(part.m)) {
			items = append(items, fmt.Sprintf("%s %d", k, part.m[k]))
		}
		fmt.Fprintf(w, "%s: %s\n", part.name, strings.Join(items, ", "))
	}
}

// Line is the progress in one line, for a live display.
func (p Progress) Line() string {
	return fmt.Sprintf("%.1f pages/s, %d fetched, %d queued, %d indexed, %d errors",
		p.PagesPerSecond, p.Fetched, p.Queued, p.Indexed, p.ErrorCount())
}

// LogAttrs are the progress as slog attributes, for a log line.
func (p Progress) LogAttrs() []any {
	return []any{"pages_per_second", fmt.Sprintf("%.1f", p.PagesPerSecond), "fetched", p.Fetched,
		"queued", p.Queued, "indexed", p.Indexed, "errors", p.ErrorCount()}
}
