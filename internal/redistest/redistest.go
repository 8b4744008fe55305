// Package redistest runs a real redis-server (Debian's package, which
// .ci/run installs) on a free loopback port for tests, so that code built
// on Redis is tested against Redis itself rather than a mock. A test is
// skipped, saying why, when redis-server is not installed.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a redis-server process that lives until the test ends.
type Server struct {
	// Addr is host:port on loopback.
	Addr string
	// Dir is the server's working directory (its AOF, when on).
	Dir string

	tb   testing.TB
	aof  bool
	port string
	cmd  *exec.Cmd
}

// Start runs redis-server on a free loopback port, without persistence
// unless aof is set (appendonly, fsync every second), and stops it when
// tb ends.
func Start(tb testing.TB, aof bool) *Server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Skip("redis-server is not installed (apt-get install redis-server; .ci/run installs it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	s := &Server{Addr: "127.0.0.1:" + port, Dir: tb.TempDir(), tb: tb, aof: aof, port: port}
	s.Restart()
	tb.Cleanup(s.Stop)
	return s
}

// URL is the server's redis:// URL for database db.
func (s *Server) URL(db int) string { return fmt.Sprintf("redis://%s/%d", s.Addr, db) }

// Restart starts the server again (after Stop or Kill) on the same port
// and directory, and waits until it answers PING.
func (s *Server) Restart() {
	s.tb.Helper()
	appendonly := "no"
	if s.aof {
		appendonly = "yes"
	}
	s.cmd = exec.Command("redis-server", "--port", s.port, "--bind", "127.0.0.1", "--dir", s.Dir,
		"--save", "", "--appendonly", appendonly, "--appendfsync", "everysec", "--daemonize", "no",
		"--logfile", filepath.Join(s.Dir, "redis.log"))
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !ping(s.Addr) {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
			s.tb.Fatalf("redis-server on %s did not answer PING within 10s; its log:\n%s", s.Addr, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop shuts the server down (SIGTERM: with AOF on, what it acknowledged
// is on disk) and waits for it.
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

// Kill ends the server with SIGKILL, as a crash would.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	_ = s.cmd.Wait()
	s.cmd = nil
}

func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}
