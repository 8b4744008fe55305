package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports a long job: a live bar with rate on a terminal, a log
// line every few seconds otherwise (CI logs, files, pipes).
type progress struct {
	bar   *progressbar.ProgressBar
	log   *slog.Logger
	what  string
	n     int64
	start time.Time
	last  time.Time
}

func newProgress(what string, total int64, log *slog.Logger) *progress {
	p := &progress{log: log, what: what, start: time.Now()}
	p.last = p.start
	if term.IsTerminal(int(os.Stderr.Fd())) {
		p.bar = newDocsBar(what, total)
	}
	return p
}

// newDocsBar returns a bar on stderr counting documents out of total (-1:
// unknown), with their rate.
func newDocsBar(what string, total int64) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("docs"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// Add records n more items done.
func (p *progress) Add(n int) {
	p.n += int64(n)
	if p.bar != nil {
		_ = p.bar.Add(n)
		return
	}
	if time.Since(p.last) >= 5*time.Second {
		p.last = time.Now()
		p.log.Info(p.what, "done", p.n, "per_second", fmt.Sprintf("%.0f", p.Rate()))
	}
}

// Rate is items per second so far.
func (p *progress) Rate() float64 {
	el := time.Since(p.start).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(p.n) / el
}

// Finish clears the bar.
func (p *progress) Finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
