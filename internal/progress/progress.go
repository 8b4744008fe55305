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

// Counter reports a count of items done: a bar with their rate on a
// terminal, a log line every LogEvery otherwise.
type Counter struct {
	bar   *progressbar.ProgressBar
	log   *slog.Logger
	what  string
	n     int64
	start time.Time
	last  time.Time
}

// NewCounter starts counting items of a job named what, out of total (-1:
// unknown).
func NewCounter(what string, total int64, log *slog.Logger) *Counter {
	c := &Counter{log: log, what: what, start: time.Now()}
	c.last = c.start
	if Terminal() {
		c.bar = NewBar(what, total)
	}
	return c
}

// Add records n more items done.
func (c *Counter) Add(n int) {
	c.n += int64(n)
	if c.bar != nil {
		_ = c.bar.Add(n)
		return
	}
	if time.Since(c.last) >= LogEvery {
		c.last = time.Now()
		c.log.Info(c.what, "done", c.n, "per_second", fmt.Sprintf("%.0f", c.Rate()))
	}
}

// Rate is items per second so far.
func (c *Counter) Rate() float64 {
	el := time.Since(c.start).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(c.n) / el
}

// Finish clears the bar.
func (c *Counter) Finish() {
	if c.bar != nil {
		_ = c.bar.Finish()
	}
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
