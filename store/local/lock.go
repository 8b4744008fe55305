package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrLocked is returned by Open when another process has the directory open.
var ErrLocked = errors.New("data directory is in use by another cari process")

// ErrNoIndex is returned by Open with Options.MustExist when the data
// directory does not exist or holds no index.
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

func (h Holder) String() string {
	if h.Addr == "" {
		return fmt.Sprintf("pid %d", h.PID)
	}
	return fmt.Sprintf("pid %d, serving gRPC on %s", h.PID, h.Addr)
}

// ReadHolder returns the process that holds dir open, as its lock file
// records it, without taking the lock. It is meaningful after Open failed
// with ErrLocked; a lock file left by a process that has exited still
// names it.
func ReadHolder(dir string) (Holder, error) {
	b, err := os.ReadFile(filepath.Join(dir, lockFile))
	if err != nil {
		return Holder{}, fmt.Errorf("read the holder of %s: %w", dir, err)
	}
	var h Holder
	if err := json.Unmarshal(b, &h); err != nil {
		return Holder{}, fmt.Errorf("read the holder of %s: %s does not say (%w)", dir, lockFile, err)
	}
	return h, nil
}

// ServerOf says whom to ask instead when Open(dir) failed with err: the
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

// lockDir takes dir's lock file exclusively and records h in it.
func lockDir(dir string, h Holder) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
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

// checkIndexExists refuses a data directory that does not exist or has no
// serving generation, naming the path.
func checkIndexExists(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s: %w: the directory does not exist (check --data, or create an index with cari index)", dir, ErrNoIndex)
	case err != nil:
		return fmt.Errorf("%s: %w", dir, err)
	case !st.IsDir():
		return fmt.Errorf("%s: %w: it is not a directory", dir, ErrNoIndex)
	}
	name, err := readCurrent(dir)
	if err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%s: %w: it holds no index (create one with cari index)", dir, ErrNoIndex)
	}
	return nil
}

func (s *Store) unlock() {
	if s.lock != nil {
		s.lock.Close() // closing releases the flock
		s.lock = nil
	}
}

// HasIndex reports whether dir holds an index that Open would open rather
// than create, as Options.MustExist requires. The error is one that says
// neither, such as a damaged serving alias.
func HasIndex(dir string) (bool, error) {
	err := checkIndexExists(dir)
	if errors.Is(err, ErrNoIndex) {
		return false, nil
	}
	return err == nil, err
}
