// Package mcp serves Cari to AI agents over the Model Context Protocol:
// tools for search, contents, find_similar and answer (each in a
// collection the call names), collections, and crawl (admin keys only);
// the collections as resources; built with the official Go SDK
// (github.com/modelcontextprotocol/go-sdk). Every tool calls the server's
// HTTP port, in-process or over HTTP to a running cari serve: Exa's REST
// endpoints (server/exa, /c/{collection}/ for a named collection) for the
// search tools, /v1/ for collections and crawls. So a tool call takes the
// same path as an SDK's request: the same API keys and their scopes and
// collections, rate and concurrency limits, deadlines, logs and metrics,
// the same answers. The package knows nothing of the server but those
// endpoints.
package mcp

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Path is where the streamable HTTP transport is mounted on the serving
// HTTP port.
const Path = "/mcp"

// peerHeader carries an HTTP client's address from Handler to the tool
// calls, so that the guard's per-address limits see the agent, not the
// server itself. Handler overwrites whatever a client sends in it.
const peerHeader = "X-Cari-Mcp-Peer"

// Options configure an MCP server.
type Options struct {
	// Exa serves the server's HTTP port in-process: Exa's endpoints
	// (POST /search, /findSimilar, /contents, /answer, and each under
	// /c/{collection}/) and /v1/ (collections, stats, crawl). Set it, or
	// BaseURL.
	Exa http.Handler
	// BaseURL is the HTTP address of a running cari serve
	// ("http://127.0.0.1:7701"), used when Exa is nil.
	BaseURL string
	// APIKey is sent with every call of a stdio server. Over HTTP, each
	// call carries the key of the agent's own request instead.
	APIKey string
	// AnyHost serves HTTP requests whatever their Host header. Without it
	// a request reaching a loopback address with another host name is
	// refused (403), the SDK's guard against DNS rebinding of a server
	// without keys; a server with API keys behind a proxy that passes the
	// public host name on needs it.
	AnyHost bool
	// Version is reported to clients in the server's implementation info.
	Version string
	// Logger receives the transport's errors; nil discards them.
	Logger *slog.Logger
}

// Server is Cari's MCP server: its tools, bound to one way of reaching
// Exa's endpoints.
type Server struct {
	exa  exaCaller
	opts Options
}

// New checks opts and returns a Server.
func New(opts Options) (*Server, error) {
	ex := exaCaller{key: opts.APIKey}
	switch {
	case opts.Exa != nil:
		ex.client, ex.base = &http.Client{Transport: handlerTransport{opts.Exa}}, "http://in-process"
	case opts.BaseURL != "":
		if !strings.HasPrefix(opts.BaseURL, "http://") && !strings.HasPrefix(opts.BaseURL, "https://") {
			return nil, fmt.Errorf("server URL %q: must start with http:// or https:// (the HTTP port of cari serve)", opts.BaseURL)
		}
		ex.client, ex.base = http.DefaultClient, strings.TrimRight(opts.BaseURL, "/")
	default:
		return nil, fmt.Errorf("mcp: no Exa handler or server URL to send tool calls to")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// The SDK logs every session's start and end at info, which on the
	// stateless HTTP transport is every request; Cari logs those already.
	opts.Logger = slog.New(warnings{opts.Logger.Handler()})
	return &Server{exa: ex, opts: opts}, nil
}

// server builds an MCP server with Cari's tools.
func (s *Server) server() *sdk.Server {
	srv := sdk.NewServer(&sdk.Implementation{Name: "cari", Title: "Cari search", Version: s.opts.Version},
		&sdk.ServerOptions{Instructions: instructions, Logger: s.opts.Logger})
	s.addTools(srv)
	return srv
}

// instructions tell the agent's model what the server is for.
const instructions = `Cari is a self-hosted search engine over the documents its operator indexed (web pages, docs, papers). ` +
	`Use search to find documents, contents to read the full text of URLs it returned, find_similar for pages like a known one, ` +
	`and answer for a short cited answer to a question. The documents may be split into collections (collections lists them); ` +
	`the search tools use the one named default unless given another. Cite the url of each document you use.`

// Handler serves the streamable HTTP transport. The caller's API key
// (x-api-key or Authorization: Bearer) goes with each tool call, so the
// server's guard checks and limits it as it does any other request;
// mount Handler behind a key check to refuse an agent without one before
// it lists the tools.
func (s *Server) Handler() http.Handler {
	srv := s.server()
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv },
		&sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: s.opts.Logger, DisableLocalhostProtection: s.opts.AnyHost})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		r.Header.Set(peerHeader, host)
		h.ServeHTTP(w, r)
	})
}

// RunStdio serves one client over stdin and stdout until it disconnects
// or ctx ends.
func (s *Server) RunStdio(ctx context.Context) error {
	return s.Run(ctx, &sdk.StdioTransport{})
}

// Run serves one client over t, for tests and embedding.
func (s *Server) Run(ctx context.Context, t sdk.Transport) error {
	return s.server().Run(ctx, t)
}

// warnings passes on the records of warning level and above.
type warnings struct{ slog.Handler }

func (w warnings) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w warnings) WithAttrs(as []slog.Attr) slog.Handler { return warnings{w.Handler.WithAttrs(as)} }

func (w warnings) WithGroup(name string) slog.Handler { return warnings{w.Handler.WithGroup(name)} }
