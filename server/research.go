package server

import (
	"fmt"
	"net/http"

	"github.com/cari-search/cari/internal/modelhttp"
	"github.com/cari-search/cari/server/exa"
	"github.com/cari-search/cari/server/research"
)

// mountResearch serves Exa's Research API at research.Path, behind
// requireSearchKey and the body limit, its agent on the answer LLM
// (opts.Answer) and its tools on Exa's endpoints on mux. No
// opts.Research.Dir: no Research API, and a nil service.
func mountResearch(mux *http.ServeMux, opts Options, maxBody int64) (*research.Service, error) {
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
		ro.Owner = func(r *http.Request) string {
			k, _ := searchKey(opts.Guard, r)
			return k.Name
		}
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
