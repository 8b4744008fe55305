package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
// with ErrLocked naming the holder, and ReadHolder gives the address to ask
// instead. A read-only open is not offered: bleve keeps its root database
// locked exclusively while the writer runs (see Holder).
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
	h, err := ReadHolder(dir)
	if err != nil || h != (Holder{PID: os.Getpid(), Addr: "127.0.0.1:7700"}) {
		t.Errorf("ReadHolder = %+v, %v; want this process and its address", h, err)
	}
	// The writer itself still answers: the holder reads its own state.
	if st, err := w.Stats(context.Background()); err != nil || st.Documents != 1 {
		t.Errorf("writer's Stats = %+v, %v", st, err)
	}
}

// TestServerOf is the decision of cari stats beside a server: only a
// directory refused as locked by a process that serves it sends the
// command to that server, on an address it can dial.
func TestServerOf(t *testing.T) {
	for _, tc := range []struct {
		name     string
		serve    string // the holder's recorded address; "-": no holder
		err      error
		want     string
		wantTrue bool
	}{
		{name: "opened", serve: "127.0.0.1:7070", err: nil},
		{name: "no index", serve: "127.0.0.1:7070", err: fmt.Errorf("x: %w", ErrNoIndex)},
		{name: "held by a server", serve: "127.0.0.1:7070", err: fmt.Errorf("x: %w", ErrLocked), want: "127.0.0.1:7070", wantTrue: true},
		{name: "held by a server on every IPv4 address", serve: "0.0.0.0:7070", err: ErrLocked, want: "127.0.0.1:7070", wantTrue: true},
		{name: "held by a server on every address", serve: "[::]:7070", err: ErrLocked, want: "[::1]:7070", wantTrue: true},
		{name: "held by cari index", serve: "", err: ErrLocked},
		{name: "held, holder unknown", serve: "-", err: ErrLocked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.serve != "-" {
				f, err := lockDir(dir, Holder{PID: 42, Addr: tc.serve})
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
			}
			h, ok := ServerOf(dir, tc.err)
			if ok != tc.wantTrue || h.Addr != tc.want {
				t.Errorf("ServerOf(%v) = %+v, %v; want address %q, %v", tc.err, h, ok, tc.want, tc.wantTrue)
			}
			if ok && h.PID != 42 {
				t.Errorf("ServerOf's holder has pid %d, want 42", h.PID)
			}
		})
	}
}

// Beside a server, StatsDir is refused with ErrLocked so that ServerOf
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
	if h, ok := ServerOf(dir, err); !ok || h.Addr != "127.0.0.1:7700" {
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
