package bench

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"text/tabwriter"
)

// Report is what cari bench prints: one index, its cost, and the latency
// of each kind of search on it.
type Report struct {
	Corpus string `json:"corpus"`
	// Language is the language a build took the documents to be in
	// instead of detecting it ("" when it detected).
	Language  string `json:"language,omitempty"`
	Documents int64  `json:"documents"`
	Passages  int64  `json:"passages"`
	Model     string `json:"model,omitempty"`
	Cores     int    `json:"cores"`
	DiskBytes int64  `json:"disk_bytes"`
	// RSSBytes is the resident memory with the index open (and, when the
	// run built it, just built), before any search.
	RSSBytes int64 `json:"rss_bytes"`
	// PeakRSSBytes is the process's high-water mark at the end of the run.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// Index is set when this run built the index.
	Index    *IndexFigures `json:"index,omitempty"`
	Searches []Figures     `json:"searches"`
	// VectorRecall10 is the share of vector-index results among the exact
	// top 10 documents (cosine over every passage), set with --ann.
	VectorRecall10 *float64 `json:"vector_recall@10,omitempty"`
}

// IndexFigures are the indexing throughput of one build.
type IndexFigures struct {
	Seconds       float64 `json:"seconds"`
	DocsPerSecond float64 `json:"docs_per_second"`
	// The same corpus into a keyword-only store (--keyword-index).
	KeywordOnlySeconds       float64 `json:"keyword_only_seconds,omitempty"`
	KeywordOnlyDocsPerSecond float64 `json:"keyword_only_docs_per_second,omitempty"`
}

// WriteTable writes the report as a table.
func (r *Report) WriteTable(out io.Writer) error {
	fmt.Fprintf(out, "corpus %s: %d documents, %d passages, model %s, %d cores\n",
		r.Corpus, r.Documents, r.Passages, orNone(r.Model), r.Cores)
	if r.Index != nil {
		fmt.Fprintf(out, "index: %.1f s, %.0f docs/s", r.Index.Seconds, r.Index.DocsPerSecond)
		if r.Language != "" {
			fmt.Fprintf(out, " (language %s given, not detected)", r.Language)
		}
		if r.Index.KeywordOnlySeconds > 0 {
			fmt.Fprintf(out, "; keyword only %.1f s, %.0f docs/s", r.Index.KeywordOnlySeconds, r.Index.KeywordOnlyDocsPerSecond)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "disk %.1f MiB, RSS %.1f MiB (peak %.1f MiB)\n", mib(r.DiskBytes), mib(r.RSSBytes), mib(r.PeakRSSBytes))
	if r.VectorRecall10 != nil {
		fmt.Fprintf(out, "vector-index recall@10 against exact search: %.4f\n", *r.VectorRecall10)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tqueries\tp50 ms\tp99 ms\tmean ms\tq/s 1 thread\tq/s parallel\t")
	for _, s := range r.Searches {
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.0f\t%.0f (%d)\t\n", s.Mode, s.Queries, s.P50Ms, s.P99Ms, s.MeanMs, s.QPS, s.ParallelQPS, s.Workers)
	}
	return tw.Flush()
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// ProcessMemory returns the resident set size and its high-water mark, read
// from /proc/self/status; zeros where that is not available.
func ProcessMemory() (rss, peak int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "VmRSS: %d kB", &kb); err == nil {
			rss = kb << 10
		} else if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); err == nil {
			peak = kb << 10
		}
	}
	return rss, max(peak, rss)
}

// StartCPUProfile starts profiling into path, if set; the returned function
// stops it once and reports a failure to write the file.
func StartCPUProfile(path string) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	var once sync.Once
	var cerr error
	return func() error {
		once.Do(func() {
			pprof.StopCPUProfile()
			cerr = f.Close()
		})
		return cerr
	}, nil
}
