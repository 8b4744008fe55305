package progress

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a buffer the watcher's goroutine and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestWatchTerminal(t *testing.T) {
	var out lockedBuffer
	done := make(chan struct{})
	polled := make(chan struct{}, 1)
	status := func() (string, []any) {
		select {
		case polled <- struct{}{}:
		default:
		}
		return "3 fetched", []any{"fetched", 3}
	}
	stopped := watch("crawling", status, slog.New(slog.DiscardHandler), done, true, &out)
	<-polled
	close(done)
	<-stopped
	s := out.String()
	if !strings.Contains(s, "\r\033[Kcrawling: 3 fetched") || !strings.HasSuffix(s, "\r\033[K") {
		t.Errorf("terminal display %q, want the line in place, then cleared", s)
	}
}

func TestWatchStopsAtOnce(t *testing.T) {
	// Without a terminal nothing is shown before LogEvery: a job shorter
	// than that logs nothing and stopping does not wait for a tick.
	var out lockedBuffer
	done := make(chan struct{})
	stopped := watch("crawling", func() (string, []any) { return "", nil }, slog.New(slog.NewTextHandler(&out, nil)), done, false, &out)
	close(done)
	select {
	case <-stopped:
	case <-time.After(time.Second):
		t.Fatal("the watcher did not stop")
	}
	if out.String() != "" {
		t.Errorf("wrote %q before its first interval", out.String())
	}
}

func TestCounter(t *testing.T) {
	var out lockedBuffer
	c := NewCounter("indexing", -1, slog.New(slog.NewTextHandler(&out, nil)))
	c.tty, c.start = false, time.Now().Add(-2*time.Second)
	c.Add(10)
	if r := c.Rate(); r < 4 || r > 5.1 {
		t.Errorf("rate %.2f, want about 5 items a second", r)
	}
	if out.String() != "" {
		t.Errorf("logged before the interval passed: %s", out.String())
	}
	c.last = time.Now().Add(-LogEvery)
	c.Add(1)
	if s := out.String(); !strings.Contains(s, "msg=indexing done=11 per_second=") {
		t.Errorf("log line %q", s)
	}
	c.Finish()
}
