// Package dnstest runs a DNS server on loopback for tests: it answers A and
// AAAA queries from a table, speaking the real protocol to Go's resolver,
// so that code resolving names can be tested with names that lead anywhere
// (private and metadata addresses included) without a real DNS server.
package dnstest

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// Server answers from its table on a loopback UDP port until the test ends.
type Server struct {
	pc      net.PacketConn
	records map[string][]netip.Addr // by lower-case name without the final dot

	mu      sync.Mutex
	queried map[string]bool
}

// Start serves records, keyed by lower-case name without the final dot,
// until t ends. A name with no records gets an empty answer.
func Start(t testing.TB, records map[string][]netip.Addr) *Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{pc: pc, records: records, queried: map[string]bool{}}
	t.Cleanup(func() { pc.Close() })
	go s.serve()
	return s
}

func (s *Server) serve() {
	buf := make([]byte, 1500)
	for {
		n, addr, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if msg, ok := s.answer(buf[:n]); ok {
			s.pc.WriteTo(msg, addr)
		}
	}
}

// answer builds the response to one query; ok is false for a packet that
// is not a query.
func (s *Server) answer(query []byte) (msg []byte, ok bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	name := strings.ToLower(strings.TrimSuffix(q.Name.String(), "."))
	s.mu.Lock()
	s.queried[name] = true
	s.mu.Unlock()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
	b.EnableCompression()
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	for _, a := range s.records[name] {
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			b.AResource(rh, dnsmessage.AResource{A: a.As4()})
		case q.Type == dnsmessage.TypeAAAA && a.Is6() && !a.Is4In6():
			b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
	}
	msg, err = b.Finish()
	return msg, err == nil
}

// Resolver returns a Go resolver that asks this server only.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.pc.LocalAddr().String())
	}}
}

// Queried reports whether name (lower case, without the final dot) was
// asked for.
func (s *Server) Queried(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queried[name]
}
