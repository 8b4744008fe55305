package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"google.golang.org/grpc"
)

// TracingOptions configure OpenTelemetry tracing.
type TracingOptions struct {
	// Endpoint is the URL of an OTLP/HTTP collector
	// ("http://localhost:4318"); /v1/traces is added when it has no path.
	// Empty: tracing is off.
	Endpoint string
	// SampleRatio is the fraction of requests without a sampled parent
	// that are traced, 0 to 1.
	SampleRatio float64
	// ServiceName names the process in traces. Default "cari".
	ServiceName string
}

// Tracing exports a span for every gRPC call and HTTP request, carrying
// W3C trace context from HTTP through the gateway into the services. A nil
// or disabled Tracing does nothing. It uses its own tracer provider, not
// the global one.
type Tracing struct {
	tp   *sdktrace.TracerProvider
	prop propagation.TextMapPropagator
}

// NewTracing starts the exporter; with no endpoint it returns a disabled
// Tracing.
func NewTracing(ctx context.Context, opts TracingOptions) (*Tracing, error) {
	if opts.Endpoint == "" {
		return &Tracing{}, nil
	}
	if opts.SampleRatio < 0 || opts.SampleRatio > 1 {
		return nil, fmt.Errorf("tracing sample ratio must be between 0 and 1, got %v", opts.SampleRatio)
	}
	if opts.ServiceName == "" {
		opts.ServiceName = "cari"
	}
	u, err := url.Parse(opts.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tracing endpoint %q: want an http or https URL such as http://localhost:4318", opts.Endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		// A base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it.
		u.Path = "/v1/traces"
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u.String()))
	if err != nil {
		return nil, fmt.Errorf("tracing exporter for %s: %w", opts.Endpoint, err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(opts.ServiceName)))
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(opts.SampleRatio))),
	)
	return &Tracing{tp: tp, prop: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})}, nil
}

func (t *Tracing) enabled() bool { return t != nil && t.tp != nil }

// Shutdown flushes the spans not yet exported.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.enabled() {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

func (t *Tracing) serverOptions() []grpc.ServerOption {
	if !t.enabled() {
		return nil
	}
	return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(t.tp), otelgrpc.WithPropagators(t.prop)))}
}

func (t *Tracing) dialOptions() []grpc.DialOption {
	if !t.enabled() {
		return nil
	}
	return []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(t.tp), otelgrpc.WithPropagators(t.prop)))}
}

func (t *Tracing) handler(h http.Handler) http.Handler {
	if !t.enabled() {
		return h
	}
	return otelhttp.NewHandler(h, "http",
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.prop),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }),
	)
}
