package crawler

import (
	"context"
	"net/netip"
	"sync"
	"testing"

	"github.com/cari-search/cari"
)

// memSink is a Sink that keeps documents in memory.
type memSink struct {
	mu      sync.Mutex
	pending []cari.Document
	docs    map[string]cari.Document // by URL
	flushes int
}

func (s *memSink) Add(_ context.Context, d cari.Document) error {
	if err := d.Normalize(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, d)
	return nil
}

func (s *memSink) Flush(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docs == nil {
		s.docs = make(map[string]cari.Document)
	}
	for _, d := range s.pending {
		s.docs[d.URL] = d
	}
	s.pending = nil
	s.flushes++
	return nil
}

func (s *memSink) byURL(u string) (cari.Document, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[u]
	return d, ok
}

func (s *memSink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.docs)
}

// loopbackOnly allows the test servers on 127.0.0.0/8 and nothing else
// special, and fails the test if a connection to anything but loopback is
// ever attempted: the last line of defence against a guard bug sending
// traffic off the machine.
func loopbackOnly(t *testing.T, o *Options) {
	o.AllowedNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	o.dialCheck = func(address string) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			t.Errorf("crawler dialled %s: the address guard let a non-loopback address through", address)
			return errDialForbidden
		}
		return nil
	}
}

type dialForbidden struct{}

func (dialForbidden) Error() string { return "test: dial forbidden" }

var errDialForbidden error = dialForbidden{}

// crawl runs one crawl to its end with a state in dir.
func crawl(t *testing.T, dir string, sink Sink, o Options) Progress {
	t.Helper()
	st, err := OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := New(st, sink, o)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Run(t.Context())
	if err != nil {
		t.Fatalf("crawl: %v", err)
	}
	return p
}
