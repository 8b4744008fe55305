package server

import "time"

// Serving defaults that cari serve's flags show, in one place. A zero
// Options field takes the size limits and keepalive; the guard's limits and
// the addresses apply where a caller takes them (a zero GuardOptions
// limits nothing, which tests rely on).
const (
	// DefaultGRPCAddr and DefaultHTTPAddr listen on loopback only, so a
	// server without API keys is not reachable from other machines.
	DefaultGRPCAddr = "127.0.0.1:7700"
	DefaultHTTPAddr = "127.0.0.1:7701"
	// DefaultMaxRecvBytes bounds a request: one gRPC message or HTTP body.
	DefaultMaxRecvBytes = 16 << 20
	// DefaultMaxSendBytes bounds a response message.
	DefaultMaxSendBytes = 64 << 20
	// DefaultMaxUploadBytes bounds the HTTP body of a document upload
	// stream.
	DefaultMaxUploadBytes = 1 << 30
)

// DefaultGuard is the production limits: per-key (or per-address) rate and
// burst, unary requests at once and waiting, the wait, and the longest a
// unary request may run.
var DefaultGuard = GuardOptions{
	Rate: 50, Burst: 100, MaxConcurrent: 64, MaxQueued: 256,
	QueueWait: 2 * time.Second, RequestTimeout: 30 * time.Second,
}
