// Package progress shows a long job's progress on stderr: a live display
// on a terminal, a log line every few seconds otherwise (CI logs, files,
// pipes), so that what a command prints on stdout stays parseable.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// LogEvery is the time between two log lines when stderr is no terminal.
const LogEvery = 5 * time.Second

// Terminal reports whether stderr is a terminal, where a live display
// belongs.
func Terminal() bool { return term.IsTerminal(int(os.Stderr.Fd())) }

// NewBar returns a bar on stderr counting documents out of total (-1:
// unknown), with their rate; it clears itself when finished.
func NewBar(what string, total int64) *progressbar.ProgressBar {
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

// Reporter shows a job that reports its own progress: a bar of done out
// of total on a terminal, a log line at most every interval otherwise.
type Reporter struct {
	log      *slog.Logger
	msg      string
	interval time.Duration
	tty      bool
	bar      *progressbar.ProgressBar
	last     time.Time
}

// NewReporter shows progress with log lines of message msg, at most every
// interval (0: every update), where stderr is no terminal.
func NewReporter(log *slog.Logger, msg string, interval time.Duration) *Reporter {
	return &Reporter{log: log, msg: msg, interval: interval, tty: Terminal()}
}

// Update shows done out of total (-1: unknown): on a terminal a bar
// labelled label, otherwise a log line with attrs, the first at once and
// the next once the interval has passed.
func (r *Reporter) Update(label string, done, total int64, attrs ...any) {
	if r.tty {
		if r.bar == nil {
			r.bar = NewBar(label, total)
		}
		_ = r.bar.Set64(done)
		return
	}
	if time.Since(r.last) < r.interval {
		return
	}
	r.last = time.Now()
	r.log.Info(r.msg, attrs...)
}

// Finish clears the bar; a later Update starts a new one.
func (r *Reporter) Finish() {
	if r.bar != nil {
		_ = r.bar.Finish()
		r.bar = nil
	}
}

// Counter reports a count of items done, with their rate.
type Counter struct {
	*Reporter
	what  string
	n     int64
	total int64
	start time.Time
}

// NewCounter starts counting items of a job named what, out of total (-1:
// unknown); its first log line comes after LogEvery.
func NewCounter(what string, total int64, log *slog.Logger) *Counter {
	c := &Counter{Reporter: NewReporter(log, what, LogEvery), what: what, total: total, start: time.Now()}
	c.last = c.start
	return c
}

// Add records n more items done.
func (c *Counter) Add(n int) {
	c.n += int64(n)
	c.Update(c.what, c.n, c.total, "done", c.n, "per_second", fmt.Sprintf("%.0f", c.Rate()))
}

// Rate is items per second so far.
func (c *Counter) Rate() float64 {
	el := time.Since(c.start).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(c.n) / el
}

// Status is a job's state now: a line for a live display and the same
// as slog attributes for a log line.
type Status func() (line string, attrs []any)

// Watch shows status until done is closed: on a terminal a line rewritten
// in place four times a second, otherwise a log line every LogEvery. The
// returned channel is closed once the display has been cleared.
func Watch(what string, status Status, log *slog.Logger, done <-chan struct{}) <-chan struct{} {
	return watch(what, status, log, done, Terminal(), os.Stderr)
}

func watch(what string, status Status, log *slog.Logger, done <-chan struct{}, tty bool, w io.Writer) <-chan struct{} {
	stopped := make(chan struct{})
	every := LogEvery
	if tty {
		every = 250 * time.Millisecond
	}
	go func() {
		defer close(stopped)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				if tty {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-tick.C:
				line, attrs := status()
				if tty {
					fmt.Fprintf(w, "\r\033[K%s: %s", what, line)
					continue
				}
				log.Info(what, attrs...)
			}
		}
	}()
	return stopped
}
