package dirlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
				f, err := Lock(dir, Holder{PID: 42, Addr: tc.serve})
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

// TestLockNamesHolder: a second Lock is refused with ErrLocked naming the
// directory and the holder as it recorded itself, and the lock is free
// again once the holder closes it.
func TestLockNamesHolder(t *testing.T) {
	dir := t.TempDir()
	f, err := Lock(dir, Holder{PID: 42, Addr: "127.0.0.1:7700"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(dir, Self(""))
	want := dir + ": data directory is in use by another cari process (pid 42, serving gRPC on 127.0.0.1:7700): stop it, or use another --data"
	if !errors.Is(err, ErrLocked) || err.Error() != want {
		t.Errorf("second Lock: %v\nwant: %s", err, want)
	}
	f.Close()
	g, err := Lock(dir, Self(""))
	if err != nil {
		t.Fatalf("Lock after the holder closed: %v", err)
	}
	defer g.Close()
	if h, err := ReadHolder(dir); err != nil || h != (Holder{PID: os.Getpid()}) {
		t.Errorf("ReadHolder = %+v, %v; want this process", h, err)
	}
}

// TestCheckIndex: a missing path, a file, and a directory without an index
// are ErrNoIndex naming the path; the caller's own error passes through.
func TestCheckIndex(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	damaged := errors.New("damaged CURRENT")
	for _, tc := range []struct {
		name, dir string
		holds     bool
		err       error
		want      error
	}{
		{name: "missing", dir: filepath.Join(dir, "typo"), want: ErrNoIndex},
		{name: "a file", dir: file, want: ErrNoIndex},
		{name: "empty", dir: dir, want: ErrNoIndex},
		{name: "damaged", dir: dir, err: damaged, want: damaged},
		{name: "index", dir: dir, holds: true},
	} {
		err := CheckIndex(tc.dir, func() (bool, error) { return tc.holds, tc.err })
		if !errors.Is(err, tc.want) || tc.want == nil && err != nil {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if errors.Is(err, ErrNoIndex) && !strings.Contains(err.Error(), tc.dir) {
			t.Errorf("%s: %v does not name %s", tc.name, err, tc.dir)
		}
	}
}
