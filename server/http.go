package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/klauspost/compress/gzhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/server/exa"
	"github.com/cari-search/cari/server/research"
)

// HTTPOptions configure the HTTP/JSON side of the server.
type HTTPOptions struct {
	// CORSOrigins are the origins ("https://app.example.com") whose pages
	// may call the API from a browser; "*" allows any. Empty: only pages
	// served from the server's own origin, such as its search page.
	CORSOrigins []string
	// Web, when set, is served at /: the search page.
	Web http.Handler
	// MaxBodyBytes bounds a request body. Default: Options.MaxRecvBytes.
	MaxBodyBytes int64
	// MaxUploadBytes bounds the body of /v1/documents:upsert, a stream of
	// documents. Default 1 GiB.
	MaxUploadBytes int64
	// NoMetrics leaves /metrics out, for deployments that scrape elsewhere.
	NoMetrics bool
}

// uploadPath is the streaming upsert, whose body holds many documents.
const uploadPath = "/v1/documents:upsert"

// newHTTPHandler returns the HTTP side: the gateway under /v1/ (calling the
// services over conn, so the gRPC interceptors guard it too), Exa's REST
// endpoints (/search, /findSimilar, /contents, /answer; over conn too),
// the MCP tools at /mcp and the Research API at /research/v1 (both over
// Exa's endpoints), /openapi.json, /metrics, /healthz and the search page at /, with CORS
// and gzip around them.
func newHTTPHandler(ctx context.Context, opts Options, r *router, conn *grpc.ClientConn, hs *health.Server) (http.Handler, *research.Service, error) {
	gw := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, bodyMarshaler{&runtime.HTTPBodyMarshaler{Marshaler: &runtime.JSONPb{
			// lowerCamelCase names, as proto JSON has them; both forms are
			// accepted on input. Lists and scalars are always present, so
			// clients need not guess at missing fields; unknown fields are
			// errors, so a misspelt field is not silently ignored.
			MarshalOptions:   protojson.MarshalOptions{EmitDefaultValues: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}}),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		runtime.WithMetadata(func(_ context.Context, r *http.Request) metadata.MD {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				host = r.RemoteAddr
			}
			return metadata.Pairs(clientIPKey, host)
		}),
		runtime.WithErrorHandler(httpError),
	)
	if err := cariv1.RegisterSearchServiceHandler(ctx, gw, conn); err != nil {
		return nil, nil, fmt.Errorf("register SearchService gateway: %w", err)
	}
	if err := cariv1.RegisterIndexServiceHandler(ctx, gw, conn); err != nil {
		return nil, nil, fmt.Errorf("register IndexService gateway: %w", err)
	}
	if err := cariv1.RegisterCollectionServiceHandler(ctx, gw, conn); err != nil {
		return nil, nil, fmt.Errorf("register CollectionService gateway: %w", err)
	}

	h := opts.HTTP
	if h.MaxBodyBytes <= 0 {
		h.MaxBodyBytes = int64(opts.MaxRecvBytes)
	}
	if h.MaxUploadBytes <= 0 {
		h.MaxUploadBytes = DefaultMaxUploadBytes
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", limitBody(h.MaxBodyBytes, h.MaxUploadBytes, gw))
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(cariv1.OpenAPI)
	})
	mux.HandleFunc("GET /healthz", healthz(hs))
	err := exa.Mount(mux, exa.Options{Search: cariv1.NewSearchServiceClient(conn), MaxBodyBytes: h.MaxBodyBytes,
		ClientIPKey: clientIPKey, Answer: opts.Answer, Live: newLiveCrawler(opts, r), Logger: opts.Logger, URLTemplate: opts.URLTemplate,
		CollectionURLTemplate: opts.Collections.urlTemplate()})
	if err != nil {
		return nil, nil, err
	}
	if err := mountMCP(mux, opts, h.MaxBodyBytes); err != nil {
		return nil, nil, err
	}
	rs, err := mountResearch(mux, opts, conn, h.MaxBodyBytes)
	if err != nil {
		return nil, nil, err
	}
	if opts.Metrics != nil && !h.NoMetrics {
		mux.Handle("GET /metrics", opts.Metrics.Handler())
	}
	if h.Web != nil {
		mux.Handle("/", h.Web)
	}

	gz, err := gzhttp.NewWrapper(gzhttp.EnableZstd(false), gzhttp.AllowCompressedRequests(true))
	if err != nil {
		if rs != nil {
			rs.Close()
		}
		return nil, nil, err
	}
	return gz(cors(h.CORSOrigins, opts.Tracing.handler(mux))), rs, nil
}

// bodyMarshaler is the gateway's JSON marshaler with decoding errors that
// say they are about the request body ("request body: unknown field
// "numResult""), not protojson's "proto: (line 1:17): ...".
type bodyMarshaler struct {
	*runtime.HTTPBodyMarshaler
}

func (m bodyMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	d := m.HTTPBodyMarshaler.NewDecoder(r)
	return runtime.DecoderFunc(func(v any) error {
		err := d.Decode(v)
		if err == nil || errors.Is(err, io.EOF) {
			return err // io.EOF ends a stream of documents
		}
		return fmt.Errorf("request body: %s", strings.TrimPrefix(err.Error(), "proto: "))
	})
}

// incomingHeader forwards X-Api-Key as the x-api-key metadata the guard
// reads (Authorization is forwarded by the gateway itself), and otherwise
// does what the gateway does by default.
func incomingHeader(key string) (string, bool) {
	if strings.EqualFold(key, "x-api-key") {
		return "x-api-key", true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// outgoingHeader sends the retry-after metadata of RESOURCE_EXHAUSTED
// answers as the HTTP Retry-After header.
func outgoingHeader(key string) (string, bool) {
	if key == "retry-after" {
		return "Retry-After", true
	}
	return runtime.MetadataHeaderPrefix + key, true
}

// httpError writes a gRPC error as the gateway does (a google.rpc.Status
// object, with the HTTP status that matches its code), adding the
// WWW-Authenticate header that HTTP wants with a 401.
func httpError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	if status.Code(err) == codes.Unauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cari"`)
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// limitBody refuses bodies larger than the limits: with 413 at once when
// Content-Length says so, or by cutting the body off (the gateway then
// answers 400) when it is streamed.
func limitBody(maxBody, maxUpload int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := maxBody
		if r.URL.Path == uploadPath {
			limit = maxUpload
		}
		if r.ContentLength > limit {
			writeStatus(w, http.StatusRequestEntityTooLarge, codes.ResourceExhausted,
				fmt.Sprintf("request body is %d bytes; this server takes at most %d on %s", r.ContentLength, limit, r.URL.Path))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// writeStatus writes an error in the gateway's shape, a google.rpc.Status
// object, for errors found before the gateway runs.
func writeStatus(w http.ResponseWriter, httpCode int, code codes.Code, msg string) {
	body, _ := protojson.Marshal(status.New(code, msg).Proto())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpCode)
	_, _ = w.Write(body)
}

// healthz answers 200 while the server (or the service named by
// ?service=) is SERVING, and 503 once shutdown has begun.
func healthz(hs *health.Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		resp, err := hs.Check(r.Context(), &healthpb.HealthCheckRequest{Service: r.URL.Query().Get("service")})
		switch {
		case status.Code(err) == codes.NotFound:
			writeStatus(w, http.StatusNotFound, codes.NotFound, "unknown service "+r.URL.Query().Get("service"))
			return
		case err != nil:
			writeStatus(w, http.StatusInternalServerError, status.Code(err), status.Convert(err).Message())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintf(w, "{\"status\":%q}\n", resp.GetStatus().String())
	}
}

// cors answers CORS preflights and marks responses readable by the allowed
// origins. API keys travel in headers, never cookies, so credentials are
// not allowed.
func cors(origins []string, next http.Handler) http.Handler {
	anyOrigin := slices.Contains(origins, "*")
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		h := w.Header()
		h.Add("Vary", "Origin")
		if origin == "" || !(anyOrigin || allowed[strings.ToLower(origin)]) {
			if preflight {
				// No CORS headers: the browser refuses the real request.
				w.WriteHeader(http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if anyOrigin {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		h.Set("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Api-Key, Grpc-Timeout")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
