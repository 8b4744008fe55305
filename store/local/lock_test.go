package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari/internal/dirlock"
)

// A read-only command on a missing or empty data directory fails naming
// the path and creates nothing there.
func TestOpenMustExist(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo")
	empty := t.TempDir()
	for _, dir := range []string{missing, empty} {
		s, err := Open(dir, Options{MustExist: true})
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, ErrNoIndex) || !strings.Contains(err.Error(), dir) {
			t.Errorf("Open(%s, MustExist): %v, want ErrNoIndex naming the path", dir, err)
		}
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open with MustExist created %s: %v", missing, err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("Open with MustExist wrote into %s: %v", empty, entries)
	}
	// Once an index exists, MustExist opens it.
	s, err := Open(empty, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(empty, Options{MustExist: true})
	if err != nil {
		t.Fatalf("Open(MustExist) on an index: %v", err)
	}
	s.Close()
}

// While a server holds the directory, a second Open (cari stats) is refused
// with ErrLocked naming the holder, and dirlock.ReadHolder gives the address to ask
// instead. A read-only open is not offered: bleve keeps its root database
// locked exclusively while the writer runs (see dirlock.Holder).
func TestHolderBesideWriter(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{ServeAddr: "127.0.0.1:7700"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	upsert(t, w, doc("a", "zebra herds"))
	_, err = Open(dir, Options{MustExist: true})
	want := fmt.Sprintf("pid %d, serving gRPC on 127.0.0.1:7700", os.Getpid())
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), dir) {
		t.Errorf("Open beside the writer: %v, want ErrLocked naming %s and %q", err, dir, want)
	}
	h, err := dirlock.ReadHolder(dir)
	if err != nil || h != (dirlock.Holder{PID: os.Getpid(), Addr: "127.0.0.1:7700"}) {
		t.Errorf("ReadHolder = %+v, %v; want this process and its address", h, err)
	}
	// The writer itself still answers: the holder reads its own state.
	if st, err := w.Stats(context.Background()); err != nil || st.Documents != 1 {
		t.Errorf("writer's Stats = %+v, %v", st, err)
	}
}

// Beside a server, StatsDir is refused with ErrLocked so that dirlock.ServerOf
// sends cari stats to the server, and VerifyDir says why it cannot run.
func TestDirCommandsBesideServer(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{ServeAddr: "127.0.0.1:7700"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	upsert(t, w, english("a", "zebra herds"))
	_, err = StatsDir(t.Context(), dir, nil)
	if h, ok := dirlock.ServerOf(dir, err); !ok || h.Addr != "127.0.0.1:7700" {
		t.Errorf("StatsDir beside the server: %v; ServerOf = %+v, %v, want the server's address", err, h, ok)
	}
	if _, err := VerifyDir(t.Context(), dir, nil); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "cari stats") {
		t.Errorf("VerifyDir beside the server: %v, want ErrLocked saying why and what to use", err)
	}
	w.Close()
	if st, err := StatsDir(t.Context(), dir, nil); err != nil || st.Documents != 1 {
		t.Errorf("StatsDir after the server closed = %+v, %v; want 1 document", st, err)
	}
}
