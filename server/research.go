package server

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/cari-search/cari/internal/modelhttp"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/server/exa"
	"github.com/cari-search/cari/server/research"
)

// mountResearch serves Exa's Research API at research.Path, behind
// requireSearchKey and the body limit, its agent on the answer LLM
// (opts.Answer) and its tools on Exa's endpoints on mux. No
// opts.Research.Dir: no Research API, and a nil service. A task's
// collection is checked at create with GetCollection over conn, under the
// caller's key, so that it is refused as a search on it would be.
func mountResearch(mux *http.ServeMux, opts Options, conn *grpc.ClientConn, maxBody int64) (*research.Service, error) {
	ro := opts.Research
	if ro.Dir == "" {
		return nil, nil
	}
	a := opts.Answer
	key := string(a.APIKey)
	if key == "" && a.URL != "" {
		var err error
		if key, err = modelhttp.LoadAPIKey(a.APIKeyFile, exa.DefaultAnswerAPIKeyEnv); err != nil {
			return nil, fmt.Errorf("research: answer LLM's API key file: %w", err)
		}
	}
	ro.Chat = research.ChatOptions{URL: a.URL, Model: a.Model, APIKey: key, HTTPClient: a.HTTPClient}
	ro.Exa, ro.Logger, ro.MaxBodyBytes = mux, opts.Logger, maxBody
	// Without keys a task's tool calls need none, so it can go on after
	// a restart; with keys its creator's was never stored.
	ro.Resume = !opts.Guard.HasKeys()
	if opts.Guard.HasKeys() {
		// Each key sees the tasks it created, as each Exa account does;
		// requireSearchKey has let only a valid key through.
		ro.Owner = func(auth map[string]string) string {
			k, _ := opts.Guard.keys.authenticate(metadata.NewIncomingContext(context.Background(), researchMD(auth)), searchMethod)
			return k.Name
		}
	}
	collections := cariv1.NewCollectionServiceClient(conn)
	ro.CheckCollection = func(ctx context.Context, auth map[string]string, name string) error {
		_, err := collections.GetCollection(metadata.NewOutgoingContext(ctx, researchMD(auth)), &cariv1.GetCollectionRequest{Name: name})
		return err
	}
	svc, err := research.New(ro)
	if err != nil {
		return nil, err
	}
	h := limitBody(maxBody, maxBody, requireSearchKey(opts.Guard, svc.Handler()))
	for _, prefix := range []string{"", research.CollectionPrefix} {
		mux.Handle(prefix+research.Path, h)
		mux.Handle(prefix+research.Path+"/", h)
	}
	return svc, nil
}

// researchMD is the gRPC metadata of a research caller's credentials
// (research.Caller.Auth): its key, and its address for the rate limits.
func researchMD(auth map[string]string) metadata.MD {
	md := keyMD(func(h string) string { return auth[h] })
	if host, _, err := net.SplitHostPort(auth[research.RemoteAddrKey]); err == nil {
		md.Set(clientIPKey, host)
	}
	return md
}
