// Package exa is Exa's public REST surface (POST /search, /findSimilar,
// /contents, /answer) on the HTTP port, for the default collection and,
// under /c/{collection}/, for any, so that Exa's SDKs work against Cari
// with only their base URL changed. The handlers translate Exa's JSON into
// cari.v1 requests and call SearchService over the same in-process
// connection the gateway uses, so API keys, rate and concurrency limits,
// deadlines, logs and metrics apply exactly as they do to /v1/. The
// package is a client of that API: it knows nothing of the server but the
// calls of Searcher.
package exa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/cari-search/cari/analysis"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// Searcher is the part of Cari's SearchService that Exa's endpoints call;
// cariv1.NewSearchServiceClient of the server's in-process connection
// implements it.
type Searcher interface {
	Search(ctx context.Context, in *cariv1.SearchRequest, opts ...grpc.CallOption) (*cariv1.SearchResponse, error)
	FindSimilar(ctx context.Context, in *cariv1.FindSimilarRequest, opts ...grpc.CallOption) (*cariv1.SearchResponse, error)
	GetContents(ctx context.Context, in *cariv1.GetContentsRequest, opts ...grpc.CallOption) (*cariv1.GetContentsResponse, error)
}

// Options configure Exa's endpoints.
type Options struct {
	// Search serves the requests. Required.
	Search Searcher
	// MaxBodyBytes bounds a request body. Required.
	MaxBodyBytes int64
	// ClientIPKey is the gRPC metadata key under which the client's
	// address goes to Search, for the server's guard to trust on its
	// in-process connection.
	ClientIPKey string
	// Answer configures the LLM that writes /answer's answers; the zero
	// value writes none.
	Answer AnswerOptions
	// Live fetches pages at request time (livecrawl, maxAgeHours); nil
	// serves the index's copies only.
	Live LiveCrawler
	// Logger receives the LLM's failures; nil discards them.
	Logger *slog.Logger
	// URLTemplate builds the url of a document indexed without one, such
	// as a corpus record: "https://docs.example.org/{id}" puts the
	// path-escaped document ID in place of {id}. Empty: the URI
	// cari:doc/ID (DefaultURIPrefix). /findSimilar and /contents take
	// either back.
	URLTemplate string
	// CollectionURLTemplate returns the URL template of the collection (or
	// alias) a request names, "" the default one; "" when it has none of
	// its own, and then URLTemplate applies. Nil: URLTemplate for all.
	CollectionURLTemplate func(collection string) string
}

// exaAPI serves Exa's endpoints on a SearchService client.
type exaAPI struct {
	search      Searcher
	maxBody     int64
	clientIPKey string
	llm         *llmAnswerer      // nil: answers are extractive
	chunker     *analysis.Chunker // splits sentences for extractive summaries
	urls        docURLs
	live        LiveCrawler // nil: no live fetches
	// collection is the collection (or alias) a request's path names
	// (/c/{collection}/search); "" is the default one.
	collection string
	// templateOf is Options.CollectionURLTemplate.
	templateOf func(collection string) string
}

// exaRoutes are Exa's endpoints, each served at its own path for the
// default collection and under /c/{collection}/ for any collection, so
// that an SDK whose base URL is http://host:7701/c/docs searches docs.
var exaRoutes = []struct {
	method, path string
	handler      func(a *exaAPI, c *exaCall, body []byte) (any, error)
}{
	{"POST", "/search", (*exaAPI).searchHandler},
	{"POST", "/findSimilar", (*exaAPI).findSimilarHandler},
	{"POST", "/contents", (*exaAPI).contentsHandler},
	{"POST", "/answer", (*exaAPI).answerHandler},
	{"GET", "/documents/{id}", (*exaAPI).documentHandler},
}

// CollectionPrefix is the path prefix of Exa's endpoints for one
// collection: /c/docs/search searches the collection (or alias) docs.
const CollectionPrefix = "/c/{collection}"

// Mount adds Exa's endpoints (POST /search, /findSimilar, /contents,
// /answer) to mux, and GET /documents/{id}, which resolves the URLs built
// for documents without one; each also under CollectionPrefix. It fails
// only on options that cannot work.
func Mount(mux *http.ServeMux, o Options) error {
	llm, err := newLLMAnswerer(o.Answer, o.Logger)
	if err != nil {
		return err
	}
	chunker, err := analysis.NewChunker(analysis.ChunkOptions{})
	if err != nil {
		return err
	}
	urls, err := newDocURLs(o.URLTemplate)
	if err != nil {
		return err
	}
	api := &exaAPI{search: o.Search, maxBody: o.MaxBodyBytes, clientIPKey: o.ClientIPKey, llm: llm, chunker: chunker, urls: urls, live: o.Live, templateOf: o.CollectionURLTemplate}
	for _, rt := range exaRoutes {
		mux.HandleFunc(rt.method+" "+rt.path, api.handle(rt.handler))
		mux.HandleFunc(rt.method+" "+CollectionPrefix+rt.path, api.handle(rt.handler))
	}
	return nil
}

// exaCall is one Exa request on its way through a handler.
type exaCall struct {
	w         http.ResponseWriter
	r         *http.Request
	ctx       context.Context // carries the caller's key and address as gRPC metadata
	requestID string
	header    metadata.MD // response headers of the gRPC call (retry-after)
}

// opts are the call options of a gRPC call made for c.
func (c *exaCall) opts() []grpc.CallOption { return []grpc.CallOption{grpc.Header(&c.header)} }

// handle reads the body of an Exa request into a call and runs h, which
// returns the response to write as JSON, or an error.
func (a *exaAPI) handle(h func(a *exaAPI, c *exaCall, body []byte) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &exaCall{w: w, r: r, ctx: a.outgoingContext(r), requestID: cariv1.NewRequestID()}
		a, err := a.forCollection(r.PathValue("collection"))
		if err != nil {
			c.fail(err, 0)
			return
		}
		if r.ContentLength > a.maxBody {
			c.fail(status.Errorf(codes.ResourceExhausted, "request body is %d bytes; this server takes at most %d", r.ContentLength, a.maxBody), http.StatusRequestEntityTooLarge)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				c.fail(status.Errorf(codes.ResourceExhausted, "request body is over %d bytes", a.maxBody), http.StatusRequestEntityTooLarge)
				return
			}
			c.fail(status.Errorf(codes.InvalidArgument, "read request body: %v", err), 0)
			return
		}
		resp, err := h(a, c, body)
		if err != nil {
			c.fail(err, 0)
			return
		}
		if resp == nil {
			return // h wrote a stream itself
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	}
}

// outgoingContext carries what the gateway would pass on to the services:
// the API key (x-api-key, or Authorization: Bearer) and the client's
// address, which the guard trusts only on the in-process connection.
func (a *exaAPI) outgoingContext(r *http.Request) context.Context {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	md := metadata.Pairs(a.clientIPKey, host)
	if k := r.Header.Get("X-Api-Key"); k != "" {
		md.Set("x-api-key", k)
	}
	if a := r.Header.Get("Authorization"); a != "" {
		md.Set("authorization", a)
	}
	return metadata.NewOutgoingContext(r.Context(), md)
}

// exaError is Exa's error body; the SDK shows error as the message.
type exaError struct {
	RequestID string `json:"requestId"`
	Error     string `json:"error"`
	Tag       string `json:"tag"`
}

// exaTags are Exa's error tags for the gRPC codes the services answer.
// Exa keeps INTERNAL_ERROR for its 500s; a request that is well formed but
// cannot be served as asked (a category filter on an index that stores no
// categories) is its INVALID_REQUEST, a 400 (exa.ai/docs/reference/error-codes).
var exaTags = map[codes.Code]string{
	codes.InvalidArgument:    "INVALID_REQUEST_BODY",
	codes.OutOfRange:         "INVALID_REQUEST_BODY",
	codes.FailedPrecondition: "INVALID_REQUEST",
	codes.Unauthenticated:    "INVALID_API_KEY",
	codes.PermissionDenied:   "ACCESS_DENIED",
	codes.NotFound:           "NOT_FOUND",
	codes.ResourceExhausted:  "RATE_LIMIT_EXCEEDED",
	codes.DeadlineExceeded:   "TIMEOUT",
	codes.Unavailable:        "SERVICE_UNAVAILABLE",
	codes.Unimplemented:      "NOT_IMPLEMENTED",
}

// fail writes err in Exa's error shape, with the HTTP status of its gRPC
// code (as /v1/ answers) unless httpCode is set.
func (c *exaCall) fail(err error, httpCode int) {
	st := status.Convert(err)
	if httpCode == 0 {
		httpCode = runtime.HTTPStatusFromCode(st.Code())
	}
	tag, ok := exaTags[st.Code()]
	switch {
	case httpCode == http.StatusRequestEntityTooLarge:
		tag = "REQUEST_TOO_LARGE"
	case !ok:
		tag = "INTERNAL_ERROR"
	}
	h := c.w.Header()
	if st.Code() == codes.Unauthenticated {
		h.Set("WWW-Authenticate", `Bearer realm="cari"`)
	}
	if v := c.header.Get("retry-after"); len(v) > 0 {
		h.Set("Retry-After", v[0])
	}
	h.Set("Content-Type", "application/json")
	c.w.WriteHeader(httpCode)
	_ = json.NewEncoder(c.w).Encode(exaError{RequestID: c.requestID, Error: exaMessage(st.Message()), Tag: tag})
}

// exaFieldNames renames Cari's field names in error messages to the names
// an Exa request uses.
var exaFieldNames = strings.NewReplacer(
	"contents.highlights.query", "highlights.query",
	"contents.text.max_characters", "contents.text.maxCharacters",
	"num_results", "numResults",
	"filters.published_date.start", "startPublishedDate",
	"filters.published_date.end", "endPublishedDate",
	"filters.crawl_date.start", "startCrawlDate",
	"filters.crawl_date.end", "endCrawlDate",
	"filters.include_domains", "includeDomains",
	"filters.exclude_domains", "excludeDomains",
	"filters.include_text", "includeText",
	"filters.exclude_text", "excludeText",
)

func exaMessage(msg string) string { return exaFieldNames.Replace(msg) }

// decodeExa decodes an Exa request body into v; the fields Cari refuses
// (see exaRefused) are a 400.
func decodeExa(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return status.Error(codes.InvalidArgument, "request body is empty; send a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		if _, ok := status.FromError(err); ok {
			return err // from an UnmarshalJSON method, naming its field
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return status.Errorf(codes.InvalidArgument, "%s: must be %s, got JSON %s", exaFieldPath(te.Field), jsonKind(te.Type.Kind().String()), te.Value)
		}
		return status.Errorf(codes.InvalidArgument, "request body: %v", err)
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(body, &fields)
	if err := refusedFields("", fields); err != nil {
		return err
	}
	if c, ok := fields["contents"]; ok {
		var inner map[string]json.RawMessage
		if json.Unmarshal(c, &inner) == nil {
			return refusedFields("contents.", inner)
		}
	}
	return nil
}

// exaFieldPath is a JSON field path as an Exa request names it: without
// the Go names of the structs embedded in the request types, which
// encoding/json puts in its paths ("exaFilters.numResults"). Exa's fields
// are lowerCamelCase and none begins "exa" and a capital.
func exaFieldPath(p string) string {
	parts := strings.Split(p, ".")
	parts = slices.DeleteFunc(parts, func(s string) bool {
		return len(s) > 3 && strings.HasPrefix(s, "exa") && unicode.IsUpper(rune(s[3]))
	})
	return strings.Join(parts, ".")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	}
	if strings.HasPrefix(goKind, "int") || strings.HasPrefix(goKind, "uint") {
		return "an integer"
	}
	return "a number"
}

// fieldError names the field of a type error in an option object at
// prefix ("contents.highlights"), or says the object is malformed.
func fieldError(prefix, shape string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return badRequest("%s.%s: must be %s, got JSON %s", prefix, te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	return badRequest("%s: must be %s: %v", prefix, shape, err)
}

// exaRefused checks the Exa request fields that Cari cannot honour and so
// refuses, rather than answering as if it had: each returns a 400 naming
// the field when the request asks for what Cari lacks, nil when the value
// asks for nothing (an empty array, false).
var exaRefused = map[string]func(field string, v json.RawMessage) error{
	// flags turn on Exa's experimental features, none of which Cari has.
	"flags": func(field string, v json.RawMessage) error {
		var flags []string
		if err := json.Unmarshal(v, &flags); err != nil {
			return badRequest("%s: must be an array of strings, got JSON %s", field, v)
		}
		if len(flags) > 0 {
			return badRequest("%s: Cari has no experimental flags; unknown: %s", field, strings.Join(flags, ", "))
		}
		return nil
	},
	// moderation asks Exa's safety model to filter results; Cari has no
	// such model, and a keyword list would only pretend to be one.
	"moderation": refuseTrue("Cari has no moderation model to filter results with"),
	// userLocation asks Exa to rank for a country. Cari's index holds no
	// page's country (a host's TLD says little: .com, .org, .io are
	// everywhere), so a localized ranking would be a guess.
	"userLocation": func(field string, v json.RawMessage) error {
		var code string
		if err := json.Unmarshal(v, &code); err != nil || len(code) != 2 || !isASCIILetters(code) {
			return badRequest("%s: must be a two-letter ISO 3166-1 country code such as \"US\", got JSON %s", field, v)
		}
		return badRequest("%s: Cari does not localize results (it knows no page's country); leave it out", field)
	},
}

func isASCIILetters(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// refuseTrue refuses a boolean field set to true, saying why.
func refuseTrue(why string) func(string, json.RawMessage) error {
	return func(field string, v json.RawMessage) error {
		var on bool
		if err := json.Unmarshal(v, &on); err != nil {
			return badRequest("%s: must be true or false, got JSON %s", field, v)
		}
		if on {
			return badRequest("%s: %s; leave it out or send false", field, why)
		}
		return nil
	}
}

// exaRefusedNames are exaRefused's fields in order, so that a request
// refused on two is told about the same one each time.
var exaRefusedNames = slices.Sorted(maps.Keys(exaRefused))

// refusedFields applies exaRefused to a request's fields at prefix.
func refusedFields(prefix string, fields map[string]json.RawMessage) error {
	for _, name := range exaRefusedNames {
		if v, ok := fields[name]; ok && string(v) != "null" {
			if err := exaRefused[name](prefix+name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// present readies a search's results for Exa's clients: every result
// gets a url (see docURLs) and its score in [0, 1] (see exaScore); the raw
// scores stay in the results' debug, when asked for.
func (a *exaAPI) present(resp *cariv1.SearchResponse) {
	a.urls.fill(resp.GetResults())
	for _, r := range resp.GetResults() {
		r.Score = float32(exaScore(resp, r.GetScore()))
	}
}

// exaTime formats a time as Exa does, "2023-11-16T01:36:32.547Z".
func exaTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// parseExaDate reads an Exa date filter: ISO 8601, a date or a date-time.
func parseExaDate(field, s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, status.Errorf(codes.InvalidArgument, "%s: must be an ISO 8601 date or date-time such as 2024-01-31 or 2024-01-31T00:00:00.000Z, got %q", field, s)
}

// badRequest is INVALID_ARGUMENT, which Exa's clients see as a 400.
func badRequest(format string, args ...any) error {
	return status.Error(codes.InvalidArgument, fmt.Sprintf(format, args...))
}
