package server

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// Transports, as logs and metrics name them.
const (
	transportGRPC = "grpc"
	transportHTTP = "http"
)

// callInfo collects what inner interceptors learn about a call (the API
// key's name) for the one log line the outer interceptor writes.
type callInfo struct {
	key string
	// collections are the collections the caller's key may use; nil: any.
	collections []string
}

type callInfoKey struct{}

func callInfoFrom(ctx context.Context) *callInfo {
	ci, _ := ctx.Value(callInfoKey{}).(*callInfo)
	return ci
}

// observeUnary writes one log line per request (method, transport, code,
// latency, result count, key name; never the key itself) and records the
// request's metrics.
func observeUnary(log *slog.Logger, m *Metrics, transport string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		ci := &callInfo{}
		ctx = context.WithValue(ctx, callInfoKey{}, ci)
		m.inflight(transport, 1)
		resp, err := handler(ctx, req)
		m.inflight(transport, -1)
		d := time.Since(start)
		code := status.Code(err)
		m.observe(info.FullMethod, transport, code, d)
		attrs := requestAttrs(info.FullMethod, transport, ci, err, d)
		switch r := resp.(type) {
		case *cariv1.SearchResponse:
			m.searched(r)
			attrs = append(attrs, slog.Int("results", len(r.GetResults())), slog.String("request_id", r.GetRequestId()))
		case *cariv1.GetContentsResponse:
			attrs = append(attrs, slog.Int("results", len(r.GetItems())), slog.String("request_id", r.GetRequestId()))
		}
		if scopeFor(info.FullMethod) == 0 {
			// Health checks come every few seconds from load balancers.
			log.LogAttrs(ctx, slog.LevelDebug, "request", attrs...)
		} else {
			log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
		}
		return resp, err
	}
}

func observeStream(log *slog.Logger, m *Metrics, transport string) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		ci := &callInfo{}
		ws := &observedStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), callInfoKey{}, ci), progress: m.newProgressWatcher()}
		m.inflight(transport, 1)
		err := handler(srv, ws)
		m.inflight(transport, -1)
		d := time.Since(start)
		m.observe(info.FullMethod, transport, status.Code(err), d)
		attrs := requestAttrs(info.FullMethod, transport, ci, err, d)
		attrs = append(attrs, slog.Int("messages_received", ws.received), slog.Int("messages_sent", ws.sent))
		level := slog.LevelInfo
		if scopeFor(info.FullMethod) == 0 {
			level = slog.LevelDebug // health Watch and reflection
		}
		log.LogAttrs(ws.ctx, level, "request", attrs...)
		return err
	}
}

func requestAttrs(fullMethod, transport string, ci *callInfo, err error, d time.Duration) []slog.Attr {
	attrs := []slog.Attr{
		slog.String("method", fullMethod),
		slog.String("transport", transport),
		slog.String("code", status.Code(err).String()),
		slog.Float64("latency_ms", float64(d.Microseconds())/1000),
	}
	if ci.key != "" {
		attrs = append(attrs, slog.String("key", ci.key))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", status.Convert(err).Message()))
	}
	return attrs
}

// observedStream counts a stream's messages, feeds Crawl and Reindex
// progress to the metrics, and carries the call's info in its context.
type observedStream struct {
	grpc.ServerStream
	ctx            context.Context
	progress       *progressWatcher
	received, sent int
}

func (s *observedStream) Context() context.Context { return s.ctx }

func (s *observedStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.received++
	}
	return err
}

func (s *observedStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	if err == nil {
		s.sent++
		s.progress.sent(m)
	}
	return err
}
