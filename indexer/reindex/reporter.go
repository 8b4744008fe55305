package reindex

import (
	"log/slog"
	"time"

	"github.com/cari-search/cari/internal/progress"
)

// Reporter shows a job's progress to the person who started it: a bar
// with rate and ETA on a terminal, else a log line every interval, and a
// log line at each change of phase. Its Report is an Options.Progress.
type Reporter struct {
	*progress.Reporter
	log   *slog.Logger
	phase Phase
}

// NewReporter returns a Reporter that logs to log.
func NewReporter(log *slog.Logger, interval time.Duration) *Reporter {
	return &Reporter{Reporter: progress.NewReporter(log, "reindex progress", interval), log: log}
}

// Report shows p; call Finish when the job ends.
func (r *Reporter) Report(p Progress) {
	if p.Phase != r.phase {
		r.phase = p.Phase
		if p.Phase != Indexing {
			r.Finish()
		}
		r.log.Info("reindex", "phase", p.Phase.String(), "generation", p.Generation, "done", p.Done, "total", p.TotalString())
	}
	if p.Phase == Indexing {
		r.Update("reindexing "+p.Generation, p.Done, p.Total, p.LogAttrs()...)
	}
}
