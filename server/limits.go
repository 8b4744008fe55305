package server

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// rateLimiter keeps one token bucket per caller: per API key, or per client
// address for anonymous callers when no keys are configured.
type rateLimiter struct {
	rate  rate.Limit
	burst int

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	*rate.Limiter
	rate     float64
	burst    int
	lastUsed time.Time
}

// idleBucketTTL is how long an unused bucket is kept. A full bucket carries
// no state worth keeping, and dropping it bounds the map when anonymous
// callers come from many addresses.
const idleBucketTTL = 10 * time.Minute

func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	return &rateLimiter{rate: rate.Limit(perSecond), burst: burst, buckets: map[string]*bucket{}}
}

// allow takes a token from caller's bucket. A key's own Rate and Burst,
// when positive, replace the defaults. It returns how long to wait before
// retrying when the bucket is empty.
func (rl *rateLimiter) allow(caller string, k Key, now time.Time) (ok bool, retryAfter time.Duration, limit float64, burst int) {
	r, b := float64(rl.rate), rl.burst
	if k.Rate > 0 {
		r = k.Rate
	}
	if k.Burst > 0 {
		b = k.Burst
	}
	if r <= 0 {
		return true, 0, 0, 0
	}
	if b <= 0 {
		b = max(1, int(math.Ceil(r)))
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	rl.sweep(now)
	bk := rl.buckets[caller]
	if bk == nil || bk.rate != r || bk.burst != b {
		bk = &bucket{Limiter: rate.NewLimiter(rate.Limit(r), b), rate: r, burst: b}
		rl.buckets[caller] = bk
	}
	bk.lastUsed = now
	res := bk.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d, r, b
	}
	return true, 0, r, b
}

func (rl *rateLimiter) sweep(now time.Time) {
	if now.Sub(rl.lastSweep) < time.Minute {
		return
	}
	rl.lastSweep = now
	for k, b := range rl.buckets {
		if now.Sub(b.lastUsed) > idleBucketTTL {
			delete(rl.buckets, k)
		}
	}
}

// concurrencyLimiter bounds the requests running at once. A request that
// finds every slot taken waits in a bounded queue for at most a set time;
// when the queue is full, or the wait runs out, it is shed with
// RESOURCE_EXHAUSTED so that an overloaded server answers fast instead of
// piling up work it cannot finish.
type concurrencyLimiter struct {
	slots chan struct{}
	queue chan struct{}
	wait  time.Duration
}

func newConcurrencyLimiter(maxRunning, maxQueued int, wait time.Duration) *concurrencyLimiter {
	return &concurrencyLimiter{
		slots: make(chan struct{}, maxRunning),
		queue: make(chan struct{}, max(0, maxQueued)),
		wait:  wait,
	}
}

// errShed is returned by acquire when a request is shed.
type errShed struct {
	running, queued int
	queueFull       bool
}

func (e errShed) Error() string {
	if e.queueFull {
		return fmt.Sprintf("server busy: %d requests running and %d waiting, the most it takes; retry later", e.running, e.queued)
	}
	return fmt.Sprintf("server busy: no slot freed among %d running requests in time; retry later", e.running)
}

// acquire takes a slot and returns the function that gives it back.
func (cl *concurrencyLimiter) acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-cl.slots }
	select {
	case cl.slots <- struct{}{}:
		return release, nil
	default:
	}
	select {
	case cl.queue <- struct{}{}:
	default:
		return nil, errShed{running: cap(cl.slots), queued: cap(cl.queue), queueFull: true}
	}
	defer func() { <-cl.queue }()
	t := time.NewTimer(cl.wait)
	defer t.Stop()
	select {
	case cl.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, errShed{running: cap(cl.slots)}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (cl *concurrencyLimiter) running() int { return len(cl.slots) }
func (cl *concurrencyLimiter) queued() int  { return len(cl.queue) }

// resourceExhausted builds RESOURCE_EXHAUSTED with a google.rpc.RetryInfo
// detail; the caller also sends retry-after metadata (whole seconds, at
// least 1), which the HTTP gateway turns into a Retry-After header.
func resourceExhausted(msg string, retryAfter time.Duration) error {
	st := status.New(codes.ResourceExhausted, msg)
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)}); err == nil {
		st = d
	}
	return st.Err()
}

// retryAfterSeconds rounds a delay up to whole seconds, at least 1, as the
// HTTP Retry-After header wants.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
