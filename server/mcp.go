package server

import (
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/server/mcp"
)

// mountMCP serves the MCP tools (streamable HTTP) at mcp.Path, calling
// Exa's endpoints on mux, behind requireSearchKey and the body limit.
func mountMCP(mux *http.ServeMux, opts Options, maxBody int64) error {
	// Keys already stop a web page from using the tools through a
	// rebound host name; a proxy in front may pass its own host on.
	m, err := mcp.New(mcp.Options{Exa: mux, Logger: opts.Logger, AnyHost: opts.Guard.HasKeys()})
	if err != nil {
		return err
	}
	mux.Handle(mcp.Path, limitBody(maxBody, maxBody, requireSearchKey(opts.Guard, m.Handler())))
	return nil
}

// searchMethod is the call whose scope an MCP session needs: every tool
// searches or reads.
var searchMethod = "/" + cariv1.SearchService_ServiceDesc.ServiceName + "/Search"

// requireSearchKey refuses an HTTP request without a key that may search,
// before next sees it: an MCP client learns at once that its key is
// missing or wrong, rather than from each tool call. The tools' calls
// pass the guard again, with its limits.
func requireSearchKey(g *Guard, next http.Handler) http.Handler {
	if !g.HasKeys() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := searchKey(g, r); err != nil {
			st := status.Convert(err)
			if st.Code() == codes.Unauthenticated {
				w.Header().Set("WWW-Authenticate", `Bearer realm="cari"`)
			}
			writeStatus(w, runtime.HTTPStatusFromCode(st.Code()), st.Code(), st.Message())
			return
		}
		next.ServeHTTP(w, r)
	})
}

// searchKey is the key of an HTTP request (x-api-key, or Authorization:
// Bearer), checked for the search scope.
func searchKey(g *Guard, r *http.Request) (Key, error) {
	return g.keys.authenticate(metadata.NewIncomingContext(r.Context(), keyMD(r.Header.Get)), searchMethod)
}

// keyMD is the gRPC metadata of the credentials in HTTP headers that
// header reads (X-Api-Key, Authorization), as the guard reads them; the
// MCP endpoint reads them from its request, research tasks from what
// their creator sent.
func keyMD(header func(string) string) metadata.MD {
	md := metadata.MD{}
	if k := header("X-Api-Key"); k != "" {
		md.Set("x-api-key", k)
	}
	if a := header("Authorization"); a != "" {
		md.Set("authorization", a)
	}
	return md
}
