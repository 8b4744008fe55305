// Package dirlock is the lock file of a data directory: one process at a
// time has a directory open, and records in the lock who it is, so that a
// process refused can say who holds the directory and ask that server
// instead (cari stats beside cari serve).
//
// store/local locks the directory of its index, and store/catalog the data
// directory of its collections; both lock the same file, LOCK, so that a
// process of a release from before collections and one of this release
// exclude each other on one data directory, and both are refused alike.
package dirlock

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// File is the lock file's name in the directory it locks.
const File = "LOCK"

// ErrLocked is returned by Lock when another process holds the directory.
var ErrLocked = errors.New("data directory is in use by another cari process")

// ErrNoIndex is returned by CheckIndex when the directory does not exist or
// holds no index.
var ErrNoIndex = errors.New("no index in data directory")

// Holder is the process holding a data directory open, as it records in
// the directory's lock file.
//
// A second process cannot open a held directory, not even to read: the
// keyword index (bleve's scorch) keeps its root database open with an
// exclusive lock for as long as the writer runs, so a read-only open would
// wait for the writer to exit. A command that only reads (cari stats)
// asks the holder's server at Addr instead, which answers from the state
// searches see.
type Holder struct {
	PID int `json:"pid"`
	// Addr is the gRPC address of the server serving the directory; empty
	// when the holder serves none (cari index, cari reindex).
	Addr string `json:"addr,omitempty"`
}

// Self is this process as a Holder, serving gRPC on addr (empty: serving
// nothing).
func Self(addr string) Holder { return Holder{PID: os.Getpid(), Addr: addr} }

func (h Holder) String() string {
	if h.Addr == "" {
		return fmt.Sprintf("pid %d", h.PID)
	}
	return fmt.Sprintf("pid %d, serving gRPC on %s", h.PID, h.Addr)
}

// Lock takes dir's lock file exclusively and records h in it; closing the
// file releases the lock. Held by another process, it fails with
// ErrLocked naming dir and, as far as the lock file says, the holder.
func Lock(dir string, h Holder) (*os.File, error) {
	path := filepath.Join(dir, File)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := ""
			if h, err := ReadHolder(dir); err == nil {
				who = " (" + h.String() + ")"
			}
			return nil, fmt.Errorf("%s: %w%s: stop it, or use another --data", dir, ErrLocked, who)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The record only informs; a failure to write it leaves the lock held.
	b, _ := json.Marshal(h)
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(b, '\n'), 0)
	}
	return f, nil
}

// ReadHolder returns the process that holds dir open, as its lock file
// records it, without taking the lock. It is meaningful after Lock failed
// with ErrLocked; a lock file left by a process that has exited still
// names it.
func ReadHolder(dir string) (Holder, error) {
	b, err := os.ReadFile(filepath.Join(dir, File))
	if err != nil {
		return Holder{}, fmt.Errorf("read the holder of %s: %w", dir, err)
	}
	var h Holder
	if err := json.Unmarshal(b, &h); err != nil {
		return Holder{}, fmt.Errorf("read the holder of %s: %s does not say (%w)", dir, File, err)
	}
	return h, nil
}

// ServerOf says whom to ask instead when opening dir failed with err: the
// process holding dir, when err is ErrLocked and that process serves dir
// over gRPC. Its Addr is then one this machine can dial (a server
// listening on every interface, 0.0.0.0 or [::], is asked on loopback).
// Any other err, or a holder that serves nothing (cari index), is false:
// the caller reports err as it is.
func ServerOf(dir string, err error) (Holder, bool) {
	if !errors.Is(err, ErrLocked) {
		return Holder{}, false
	}
	h, rerr := ReadHolder(dir)
	if rerr != nil || h.Addr == "" {
		return Holder{}, false
	}
	if host, port, serr := net.SplitHostPort(h.Addr); serr == nil {
		switch ip := net.ParseIP(host); {
		case host == "" || ip != nil && ip.Equal(net.IPv4zero):
			h.Addr = net.JoinHostPort("127.0.0.1", port)
		case ip != nil && ip.Equal(net.IPv6unspecified):
			h.Addr = net.JoinHostPort("::1", port)
		}
	}
	return h, true
}

// CheckIndex refuses a data directory that does not exist, is not a
// directory, or in which holdsIndex finds no index, with ErrNoIndex naming
// the path: for the commands that only read, a missing directory is a
// mistyped path, not a new index. An error of holdsIndex (a damaged file)
// is returned as it is.
func CheckIndex(dir string, holdsIndex func() (bool, error)) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s: %w: the directory does not exist (check --data, or create an index with cari index)", dir, ErrNoIndex)
	case err != nil:
		return fmt.Errorf("%s: %w", dir, err)
	case !st.IsDir():
		return fmt.Errorf("%s: %w: it is not a directory", dir, ErrNoIndex)
	}
	ok, err := holdsIndex()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %w: it holds no index (create one with cari index)", dir, ErrNoIndex)
	}
	return nil
}
