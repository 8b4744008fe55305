package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// GuardOptions say who may call what, and how much. The zero value lets
// everyone call everything without limits.
type GuardOptions struct {
	// Keys are the accepted API keys. Empty: calls need no key.
	Keys []Key
	// Rate is the requests a second each key may make, and Burst how many
	// it may make at once; without keys, each client address gets the
	// same. Rate 0: no rate limit. Burst 0: Rate rounded up.
	Rate  float64
	Burst int
	// MaxConcurrent bounds the unary requests running at once over both
	// transports; 0: no bound. Streaming calls (uploads, crawls, reindex
	// jobs) are admin work that lasts long, and are not counted.
	MaxConcurrent int
	// MaxQueued bounds the requests waiting for a slot, and QueueWait how
	// long each waits before it is shed; past either a request answers
	// RESOURCE_EXHAUSTED at once.
	MaxQueued int
	QueueWait time.Duration
	// RequestTimeout bounds every unary request: one arriving with no
	// deadline, or a later one, gets this. 0: the client's deadline only.
	RequestTimeout time.Duration
}

// Guard checks API keys and applies the rate, concurrency and time limits,
// the same for gRPC and HTTP callers: HTTP requests reach the services as
// gRPC calls over an in-process connection and pass the same interceptors.
type Guard struct {
	keys    *keyring
	rate    *rateLimiter
	conc    *concurrencyLimiter
	timeout time.Duration
	now     func() time.Time
}

// NewGuard checks opts and returns a Guard.
func NewGuard(opts GuardOptions) (*Guard, error) {
	kr, err := newKeyring(opts.Keys)
	if err != nil {
		return nil, err
	}
	if opts.Rate < 0 || opts.Burst < 0 || opts.MaxConcurrent < 0 || opts.MaxQueued < 0 || opts.QueueWait < 0 || opts.RequestTimeout < 0 {
		return nil, errors.New("guard limits must not be negative")
	}
	g := &Guard{keys: kr, rate: newRateLimiter(opts.Rate, opts.Burst), timeout: opts.RequestTimeout, now: time.Now}
	if opts.MaxConcurrent > 0 {
		g.conc = newConcurrencyLimiter(opts.MaxConcurrent, opts.MaxQueued, opts.QueueWait)
	}
	return g, nil
}

// HasKeys reports whether calls need an API key.
func (g *Guard) HasKeys() bool { return g != nil && len(g.keys.keys) > 0 }

// clientIPKey is the metadata key under which the HTTP gateway passes the
// client's address. It is trusted only on the in-process connection, where
// the gateway's own annotator sets it and replaces any value a client sent.
const clientIPKey = "x-cari-client-ip"

// caller names the bucket a call's rate limit draws from.
func caller(ctx context.Context, k Key, internal bool) string {
	if k.Name != "" {
		return "key:" + k.Name
	}
	if internal {
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if v := md.Get(clientIPKey); len(v) > 0 {
				return "addr:" + v[0]
			}
		}
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		host, _, err := net.SplitHostPort(p.Addr.String())
		if err != nil {
			host = p.Addr.String()
		}
		return "addr:" + host
	}
	return "addr:unknown"
}

// admit authenticates a call and applies its rate limit. It records the key
// in the call's log line and returns a status error when the call may not
// go on, having sent retry-after with it where waiting helps.
func (g *Guard) admit(ctx context.Context, fullMethod string, internal bool, m *Metrics, setHeader func(metadata.MD) error) error {
	k, err := g.keys.authenticate(ctx, fullMethod)
	if info := callInfoFrom(ctx); info != nil && k.Name != "" {
		info.key, info.collections = k.Name, k.Collections
	}
	if err != nil {
		m.rejected(status.Code(err))
		return err
	}
	if scopeFor(fullMethod) == 0 {
		return nil
	}
	ok, wait, r, b := g.rate.allow(caller(ctx, k, internal), k, g.now())
	if ok {
		return nil
	}
	m.rejected(codes.ResourceExhausted)
	_ = setHeader(metadata.Pairs("retry-after", strconv.Itoa(retryAfterSeconds(wait))))
	who := "this client address"
	if k.Name != "" {
		who = fmt.Sprintf("API key %q", k.Name)
	}
	return resourceExhausted(fmt.Sprintf("rate limit exceeded for %s: %g requests a second, bursts of %d; retry in %v", who, r, b, wait.Round(time.Millisecond)), wait)
}

// run applies the request timeout and the concurrency limit to a unary call
// that admit let in, then calls next.
func (g *Guard) run(ctx context.Context, fullMethod string, m *Metrics, next func(context.Context) (any, error)) (any, error) {
	if scopeFor(fullMethod) == 0 {
		return next(ctx)
	}
	if g.timeout > 0 {
		if d, ok := ctx.Deadline(); !ok || time.Until(d) > g.timeout {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, g.timeout)
			defer cancel()
		}
	}
	if g.conc != nil {
		release, err := g.conc.acquire(ctx)
		var shed errShed
		switch {
		case errors.As(err, &shed):
			m.rejected(codes.ResourceExhausted)
			_ = grpc.SetHeader(ctx, metadata.Pairs("retry-after", "1"))
			return nil, resourceExhausted(shed.Error(), time.Second)
		case errors.Is(err, context.DeadlineExceeded):
			return nil, status.Error(codes.DeadlineExceeded, "deadline exceeded while waiting for a free slot")
		case err != nil:
			return nil, status.Error(codes.Canceled, "request cancelled while waiting for a free slot")
		}
		defer release()
	}
	resp, err := next(ctx)
	if err == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// A handler that ignored its context and finished late still
		// answers as its deadline says; the client has stopped waiting.
		return nil, status.Error(codes.DeadlineExceeded, "deadline exceeded before the request finished")
	}
	return resp, err
}

func (g *Guard) unary(m *Metrics, internal bool) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		setHeader := func(md metadata.MD) error { return grpc.SetHeader(ctx, md) }
		if err := g.admit(ctx, info.FullMethod, internal, m, setHeader); err != nil {
			return nil, err
		}
		return g.run(ctx, info.FullMethod, m, func(ctx context.Context) (any, error) { return handler(ctx, req) })
	}
}

func (g *Guard) stream(m *Metrics, internal bool) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := g.admit(ss.Context(), info.FullMethod, internal, m, ss.SetHeader); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}
