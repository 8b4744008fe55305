package main

// The service end-to-end test: the real cari serve configured through a
// config file, CARI_* variables and flags together, with API keys, called
// over gRPC (generated clients) and HTTP (plain net/http), the error cases
// included: bad fields, missing or wrong keys, the wrong scope, a rate
// limit, a deadline.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// API keys of the service test. The tiny key may make 2 requests, then is
// rate limited for 1000s.
const (
	e2eSearchKey = "e2e-search-key-0123456789"
	e2eAdminKey  = "e2e-admin-key-0123456789"
	e2eTinyKey   = "e2e-tiny-key-0123456789"
)

// writeServiceConfig writes the keys file and a config file that uses it,
// and returns the config file's path.
func writeServiceConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.yaml")
	writeFile(t, keys, fmt.Sprintf(`keys:
  - name: frontend
    key: %s
    scope: search
  - name: tiny
    key: %s
    scope: search
    rate: 0.001
    burst: 2
`, e2eSearchKey, e2eTinyKey))
	config := filepath.Join(dir, "cari.yaml")
	writeFile(t, config, fmt.Sprintf(`# nested keys and snake_case read as flag names
auth:
  keys_file: %s
http:
  cors_origins: [https://app.example.com]
limit-num-results: 50
log-format: json
`, keys))
	return config
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServiceEndToEnd(t *testing.T) {
	data := t.TempDir()
	mustCari(t, "index", "--data", data, "--corpus", fixture("corpus.jsonl"), "--max-malformed", fixtureMaxMalformed)
	config := writeServiceConfig(t)
	srv := startServe(t, data, "--config", config, "CARI_AUTH_ADMIN_KEYS="+e2eAdminKey, "CARI_LIMIT_REQUEST_TIMEOUT=20s")
	conn, err := grpc.NewClient(srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })

	t.Run("health and reflection need no key", func(t *testing.T) { testHealthAndReflection(t, conn) })
	t.Run("gRPC", func(t *testing.T) { testServiceGRPC(t, conn) })
	t.Run("HTTP", func(t *testing.T) { testServiceHTTP(t, srv.url) })
	t.Run("HTTP errors", func(t *testing.T) { testServiceHTTPErrors(t, srv.url) })
	t.Run("endpoints", func(t *testing.T) { testServiceEndpoints(t, srv.url) })
	t.Run("log lines", func(t *testing.T) { testServiceLogs(t, srv) })
	t.Run("config print", func(t *testing.T) { testConfigPrint(t, config) })
	t.Run("search and stats commands send the key", func(t *testing.T) {
		keyFile := filepath.Join(t.TempDir(), "key")
		writeFile(t, keyFile, e2eSearchKey+"\n")
		if out, _ := mustCari(t, "search", "--addr", srv.addr, "--api-key-file", keyFile, "--json", "volcano"); !strings.Contains(out, "results") {
			t.Errorf("search with the key printed %q", out)
		}
		_, errOut, err := runCari(t, "search", "--addr", srv.addr, "volcano")
		if err == nil || !strings.Contains(errOut, "Unauthenticated") {
			t.Errorf("search without a key: err %v, stderr %q; want Unauthenticated", err, errOut)
		}
		// stats beside the server asks it, with the key.
		if out, _ := mustCari(t, "stats", "--data", data, "--api-key-file", keyFile, "--json"); !strings.Contains(out, fmt.Sprintf(`"documents":%d`, fixtureDocs)) {
			t.Errorf("stats beside the server with the key printed %q, want %d documents", out, fixtureDocs)
		}
		_, errOut, err = runCari(t, "stats", "--data", data)
		if err == nil || !strings.Contains(errOut, "Unauthenticated") || !strings.Contains(errOut, srv.addr) {
			t.Errorf("stats beside the server without a key: err %v, stderr %q; want Unauthenticated naming the server", err, errOut)
		}
	})
	t.Run("shutdown", func(t *testing.T) {
		if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-srv.exited:
			if srv.err != nil {
				t.Errorf("cari serve exited with %v after SIGTERM, want status 0", srv.err)
			}
		case <-time.After(hangGuard(t, 5*time.Second)):
			t.Fatal("cari serve still running long after SIGTERM")
		}
	})
}

func keyContext(t *testing.T, key string) context.Context {
	return metadata.AppendToOutgoingContext(rpcContext(t), "x-api-key", key)
}

func testServiceGRPC(t *testing.T, conn *grpc.ClientConn) {
	sc, ic := cariv1.NewSearchServiceClient(conn), cariv1.NewIndexServiceClient(conn)
	req := &cariv1.SearchRequest{Query: "molten magma", NumResults: 5, Contents: &cariv1.ContentsOptions{Highlights: &cariv1.HighlightsOptions{}}}

	resp, err := sc.Search(keyContext(t, e2eSearchKey), req)
	if err != nil {
		t.Fatalf("search with the search key: %v", err)
	}
	if ids := resultIDs(resp); len(ids) == 0 || ids[0] != "doc02" || len(resp.GetResults()[0].GetHighlights()) == 0 {
		t.Errorf("results %v, want doc02 first with highlights", ids)
	}
	st, err := ic.GetStats(keyContext(t, e2eAdminKey), &cariv1.GetStatsRequest{})
	if err != nil || st.GetDocuments() != fixtureDocs {
		t.Errorf("GetStats with the admin key (from CARI_AUTH_ADMIN_KEYS): %v documents, %v", st.GetDocuments(), err)
	}

	t.Run("missing key", func(t *testing.T) {
		_, err := sc.Search(rpcContext(t), req)
		wantStatus(t, err, codes.Unauthenticated, "")
	})
	t.Run("wrong key", func(t *testing.T) {
		_, err := sc.Search(keyContext(t, "e2e-wrong-key-0123456789"), req)
		wantStatus(t, err, codes.Unauthenticated, "")
	})
	t.Run("bearer", func(t *testing.T) {
		ctx := metadata.AppendToOutgoingContext(rpcContext(t), "authorization", "Bearer "+e2eSearchKey)
		if _, err := sc.Search(ctx, req); err != nil {
			t.Errorf("Authorization: Bearer: %v", err)
		}
	})
	t.Run("search key on IndexService", func(t *testing.T) {
		_, err := ic.DeleteDocuments(keyContext(t, e2eSearchKey), &cariv1.DeleteDocumentsRequest{Ids: []string{"doc01"}})
		wantStatus(t, err, codes.PermissionDenied, "")
	})
	t.Run("bad fields", func(t *testing.T) {
		_, err := sc.Search(keyContext(t, e2eSearchKey), &cariv1.SearchRequest{Query: "magma", NumResults: 60})
		wantStatus(t, err, codes.InvalidArgument, "num_results")
		if !strings.Contains(status.Convert(err).Message(), "between 1 and 50") {
			t.Errorf("message %q does not give the configured range 1 to 50", status.Convert(err).Message())
		}
		_, err = sc.Search(keyContext(t, e2eSearchKey), &cariv1.SearchRequest{Query: "magma", Fusion: &cariv1.FusionOptions{NumCandidates: 5000}})
		wantStatus(t, err, codes.InvalidArgument, "fusion.num_candidates")
	})
	t.Run("rate limit", func(t *testing.T) {
		var err error
		for range 3 {
			if _, err = sc.Search(keyContext(t, e2eTinyKey), req); err != nil {
				break
			}
		}
		wantStatus(t, err, codes.ResourceExhausted, "")
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(keyContext(t, e2eSearchKey), time.Microsecond)
		defer cancel()
		_, err := sc.Search(ctx, req)
		wantStatus(t, err, codes.DeadlineExceeded, "")
	})
}

// call is one HTTP request of the service test; headers are name, value
// pairs.
func call(t *testing.T, method, url, body string, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(rpcContext(t), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func testServiceHTTP(t *testing.T, url string) {
	code, _, body := call(t, "POST", url+"/v1/search", `{"query":"molten magma","numResults":5,"contents":{"highlights":{"perUrl":1}}}`, "X-Api-Key", e2eSearchKey)
	var resp struct {
		ResolvedSearchType string `json:"resolvedSearchType"`
		Results            []struct {
			ID         string   `json:"id"`
			Title      string   `json:"title"`
			Score      float64  `json:"score"`
			Highlights []string `json:"highlights"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &resp); code != http.StatusOK || err != nil {
		t.Fatalf("POST /v1/search: %d %v\n%s", code, err, body)
	}
	if len(resp.Results) == 0 || resp.Results[0].ID != "doc02" || resp.Results[0].Score <= 0 || len(resp.Results[0].Highlights) != 1 {
		t.Errorf("results %+v, want doc02 first with a score and one highlight", resp.Results)
	}

	code, _, body = call(t, "POST", url+"/v1/documents:upsert",
		`{"document":{"id":"e2e-http","url":"https://e2e.example.com/a","title":"Upserted over HTTP","text":"A zeppelin floats over the harbour."}}`,
		"Authorization", "Bearer "+e2eAdminKey)
	if code != http.StatusOK || !strings.Contains(string(body), `"1"`) {
		t.Errorf("upsert over HTTP with the admin key: %d %s", code, body)
	}
	code, _, body = call(t, "GET", url+"/v1/search?query=zeppelin&numResults=1", "", "X-Api-Key", e2eSearchKey)
	if code != http.StatusOK || !strings.Contains(string(body), "e2e-http") {
		t.Errorf("GET /v1/search?query=zeppelin: %d %s", code, body)
	}
	code, _, body = call(t, "POST", url+"/v1/documents:delete", `{"ids":["e2e-http"]}`, "X-Api-Key", e2eAdminKey)
	if code != http.StatusOK {
		t.Errorf("delete over HTTP: %d %s", code, body)
	}
}

func testServiceHTTPErrors(t *testing.T, url string) {
	search := url + "/v1/search"
	cases := []struct {
		name     string
		path     string
		body     string
		headers  []string
		wantCode int
		wantMsg  string
	}{
		{"missing key", search, `{"query":"magma"}`, nil, http.StatusUnauthorized, "missing API key"},
		{"wrong key", search, `{"query":"magma"}`, []string{"X-Api-Key", "e2e-wrong-key-0123456789"}, http.StatusUnauthorized, "invalid API key"},
		// GetStats is open to search keys (the search page describes the
		// index with it); changing the index is not.
		{"search key on delete", url + "/v1/documents:delete", `{"ids":["doc01"]}`, []string{"X-Api-Key", e2eSearchKey}, http.StatusForbidden, "admin"},
		{"empty query", search, `{"query":""}`, []string{"X-Api-Key", e2eSearchKey}, http.StatusBadRequest, "query"},
		{"num_results over the cap", search, `{"query":"magma","numResults":51}`, []string{"X-Api-Key", e2eSearchKey}, http.StatusBadRequest, "num_results: must be between 1 and 50"},
		{"alpha out of range", search, `{"query":"magma","fusion":{"alpha":-0.5}}`, []string{"X-Api-Key", e2eSearchKey}, http.StatusBadRequest, "fusion.alpha"},
		{"unknown field", search, `{"query":"magma","nmResults":5}`, []string{"X-Api-Key", e2eSearchKey}, http.StatusBadRequest, "nmResults"},
		{"deadline", search, `{"query":"magma"}`, []string{"X-Api-Key", e2eSearchKey, "Grpc-Timeout", "1n"}, http.StatusGatewayTimeout, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := "POST"
			if c.body == "" {
				method = "GET"
			}
			code, hdr, body := call(t, method, c.path, c.body, c.headers...)
			if code != c.wantCode {
				t.Fatalf("%d %s, want %d", code, body, c.wantCode)
			}
			var st struct {
				Code    int
				Message string
			}
			if err := json.Unmarshal(body, &st); err != nil || st.Code == 0 {
				t.Errorf("body %s is not a google.rpc.Status (%v)", body, err)
			}
			if !strings.Contains(st.Message, c.wantMsg) {
				t.Errorf("message %q, want it to contain %q", st.Message, c.wantMsg)
			}
			if code == http.StatusUnauthorized && hdr.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	t.Run("rate limit", func(t *testing.T) {
		// The gRPC subtest spent the tiny key's burst.
		code, hdr, body := call(t, "POST", search, `{"query":"magma"}`, "X-Api-Key", e2eTinyKey)
		if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || !strings.Contains(string(body), "tiny") {
			t.Errorf("tiny key: %d Retry-After %q %s, want 429 with Retry-After", code, hdr.Get("Retry-After"), body)
		}
	})
}

func testServiceEndpoints(t *testing.T, url string) {
	code, _, body := call(t, "GET", url+"/openapi.json", "")
	var doc struct {
		Swagger string
		Paths   map[string]any
	}
	if err := json.Unmarshal(body, &doc); code != http.StatusOK || err != nil || doc.Paths["/v1/search"] == nil {
		t.Errorf("/openapi.json: %d %v, paths %v", code, err, doc.Paths)
	}
	if code, _, body := call(t, "GET", url+"/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz: %d %s", code, body)
	}
	code, hdr, body := call(t, "GET", url+"/", "")
	if code != http.StatusOK || !strings.Contains(string(body), `id="search-form"`) || hdr.Get("Content-Security-Policy") == "" {
		t.Errorf("GET /: %d, CSP %q", code, hdr.Get("Content-Security-Policy"))
	}
	_, hdr, _ = call(t, "POST", url+"/v1/search", `{"query":"magma"}`, "X-Api-Key", e2eSearchKey, "Origin", "https://app.example.com")
	if hdr.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("CORS for the configured origin: Access-Control-Allow-Origin %q", hdr.Get("Access-Control-Allow-Origin"))
	}
	_, _, body = call(t, "GET", url+"/metrics", "")
	for _, want := range []string{
		`cari_requests_total{code="OK",method="Search",service="cari.v1.SearchService",transport="grpc"}`,
		`cari_requests_total{code="OK",method="Search",service="cari.v1.SearchService",transport="http"}`,
		`cari_requests_total{code="Unauthenticated",method="Search",service="cari.v1.SearchService",transport="http"}`,
		`cari_rejected_requests_total{code="ResourceExhausted"}`,
		`cari_search_stage_duration_seconds_bucket{stage="keyword",type="keyword",le=`,
		fmt.Sprintf("cari_index_documents %d", fixtureDocs),
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// testServiceLogs checks the JSON log: one line per request with method,
// code, latency and key name, and no secret anywhere.
func testServiceLogs(t *testing.T, s *served) {
	logs := s.stderr(t)
	for _, k := range []string{e2eSearchKey, e2eAdminKey, e2eTinyKey} {
		if strings.Contains(logs, k) {
			t.Fatal("an API key appears in the server log")
		}
	}
	var found bool
	for line := range strings.SplitSeq(logs, "\n") {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) != nil || l["msg"] != "request" || l["method"] != "/cari.v1.SearchService/Search" || l["code"] != "OK" {
			continue
		}
		found = true
		if l["key"] == nil || l["latency_ms"] == nil || l["results"] == nil || l["transport"] == nil {
			t.Errorf("request line %v lacks key, latency_ms, results or transport", l)
		}
	}
	if !found {
		t.Errorf("no JSON request line for a search in the log:\n%s", logs)
	}
}

func testConfigPrint(t *testing.T, config string) {
	cmd := exec.CommandContext(rpcContext(t), cariBinary(t), "config", "print", "--config", config, "--grpc-addr", "127.0.0.1:7777")
	cmd.Env = append(cariEnv(), "CARI_AUTH_ADMIN_KEYS="+e2eAdminKey, "CARI_LIMIT_RATE=7", "CARI_NO_SUCH_SETTING=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("config print: %v", err)
	}
	s := string(out)
	if strings.Contains(s, e2eAdminKey) {
		t.Fatal("config print shows a secret")
	}
	for _, want := range []string{
		"auth-admin-keys: ['********'] # env CARI_AUTH_ADMIN_KEYS",
		"limit-rate: 7.0 # env CARI_LIMIT_RATE",
		"grpc-addr: 127.0.0.1:7777 # flag",
		"limit-num-results: 50 # file",
		"http-cors-origins: ['https://app.example.com'] # file",
		"http-addr: 127.0.0.1:7701 # default",
		"CARI_NO_SUCH_SETTING",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("config print lacks %q:\n%s", want, s)
		}
	}

	t.Run("unknown setting", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		writeFile(t, bad, "htp-addr: 127.0.0.1:1\n")
		_, errOut, err := runCari(t, "config", "print", "--config", bad)
		if err == nil || !strings.Contains(errOut, `unknown setting "htp-addr"`) {
			t.Errorf("config with a misspelt key: err %v, stderr %q", err, errOut)
		}
	})
}

// TestServeRefusesPublicWithoutKeys checks that serve will not listen on a
// non-loopback address with no keys, unless --insecure-public.
func TestServeRefusesPublicWithoutKeys(t *testing.T) {
	data := t.TempDir()
	_, errOut, err := runCari(t, "serve", "--data", data, "--grpc-addr", "0.0.0.0:0", "--http-addr", "off")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(errOut, "not a loopback address") || !strings.Contains(errOut, "--insecure-public") {
		t.Errorf("serve on 0.0.0.0 without keys: err %v, stderr %q; want a refusal naming --insecure-public", err, errOut)
	}
	_, errOut, err = runCari(t, "serve", "--data", data, "--grpc-addr", "127.0.0.1:0", "--http-addr", "0.0.0.0:0")
	if err == nil || !strings.Contains(errOut, "--http-addr") {
		t.Errorf("HTTP on 0.0.0.0 without keys: err %v, stderr %q", err, errOut)
	}

	// With --insecure-public it starts.
	logs := filepath.Join(t.TempDir(), "serve.log")
	f, err := os.Create(logs)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(cariBinary(t), "serve", "--data", data, "--grpc-addr", "0.0.0.0:0", "--http-addr", "off", "--insecure-public")
	cmd.Env, cmd.Stderr = cariEnv(), f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(hangGuard(t, 15*time.Second))
	for {
		b, _ := os.ReadFile(logs)
		if strings.Contains(string(b), "msg=serving") {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("serve --insecure-public exited: %v\n%s", err, b)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("serve --insecure-public did not start in 15s:\n%s", b)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Errorf("serve --insecure-public after SIGTERM: %v", err)
	}
}
