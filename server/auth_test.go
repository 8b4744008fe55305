package server

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

const (
	searchSecret = "search-secret-0123456789"
	adminSecret  = "admin-secret-0123456789ab"
)

var testKeys = []Key{
	{Name: "frontend", Secret: searchSecret, Scope: ScopeSearch},
	{Secret: adminSecret, Scope: ScopeAdmin},
}

func TestAuthGRPC(t *testing.T) {
	ts := startServer(t, serverSetup{guard: GuardOptions{Keys: testKeys}})
	ctx := t.Context()
	req := &cariv1.SearchRequest{Query: "volcano"}

	cases := []struct {
		name string
		md   []string
		call string // "search" or "stats"
		want codes.Code
	}{
		{"no key", nil, "search", codes.Unauthenticated},
		{"wrong key", []string{"x-api-key", "not-a-key-0123456789"}, "search", codes.Unauthenticated},
		{"search key searches", []string{"x-api-key", searchSecret}, "search", codes.OK},
		{"bearer", []string{"authorization", "Bearer " + searchSecret}, "search", codes.OK},
		{"bearer lower case", []string{"authorization", "bearer " + searchSecret}, "search", codes.OK},
		{"other scheme", []string{"authorization", "Basic " + searchSecret}, "search", codes.Unauthenticated},
		{"no key on GetStats", nil, "stats", codes.Unauthenticated},
		{"search key reads GetStats", []string{"x-api-key", searchSecret}, "stats", codes.OK},
		{"admin key on IndexService", []string{"x-api-key", adminSecret}, "stats", codes.OK},
		{"admin key searches", []string{"x-api-key", adminSecret}, "search", codes.OK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cctx := metadata.AppendToOutgoingContext(ctx, c.md...)
			var err error
			if c.call == "search" {
				_, err = ts.search().Search(cctx, req)
			} else {
				_, err = ts.index().GetStats(cctx, &cariv1.GetStatsRequest{})
			}
			if status.Code(err) != c.want {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
	t.Run("health needs no key", func(t *testing.T) {
		resp, err := healthpb.NewHealthClient(ts.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "cari.v1.SearchService"})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health: %v %v", resp, err)
		}
	})
	t.Run("keys are never logged", func(t *testing.T) {
		logs := ts.logs.String()
		if strings.Contains(logs, searchSecret) || strings.Contains(logs, adminSecret) {
			t.Error("a secret appears in the server log")
		}
		if !strings.Contains(logs, `"key":"frontend"`) || !strings.Contains(logs, `"key":"`+KeyName(ScopeAdmin, adminSecret)+`"`) {
			t.Errorf("log lines do not name the keys:\n%s", logs)
		}
	})
}

func TestAuthHTTP(t *testing.T) {
	ts := startServer(t, serverSetup{guard: GuardOptions{Keys: testKeys}})
	body := `{"query":"volcano"}`
	r := ts.do(t, "POST", "/v1/search", body)
	if r.code != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" || !strings.Contains(string(r.body), "missing API key") {
		t.Errorf("no key: %d %v %s, want 401 with WWW-Authenticate", r.code, r.header, r.body)
	}
	if r := ts.do(t, "POST", "/v1/search", body, "X-Api-Key", "wrong-key-0123456789"); r.code != http.StatusUnauthorized {
		t.Errorf("wrong key: %d %s, want 401", r.code, r.body)
	}
	if r := ts.do(t, "POST", "/v1/search", body, "X-Api-Key", searchSecret); r.code != http.StatusOK {
		t.Errorf("X-Api-Key: %d %s, want 200", r.code, r.body)
	}
	if r := ts.do(t, "POST", "/v1/search", body, "Authorization", "Bearer "+searchSecret); r.code != http.StatusOK {
		t.Errorf("Authorization: Bearer: %d %s, want 200", r.code, r.body)
	}
	if r := ts.do(t, "GET", "/v1/stats", "", "X-Api-Key", searchSecret); r.code != http.StatusOK {
		t.Errorf("search key on /v1/stats: %d %s, want 200: the search page shows it", r.code, r.body)
	}
	if r := ts.do(t, "POST", "/v1/documents:delete", `{"ids": ["merapi"]}`, "X-Api-Key", searchSecret); r.code != http.StatusForbidden {
		t.Errorf("search key on /v1/documents:delete: %d %s, want 403", r.code, r.body)
	}
	if r := ts.do(t, "GET", "/v1/stats", "", "X-Api-Key", adminSecret); r.code != http.StatusOK {
		t.Errorf("admin key on /v1/stats: %d %s, want 200", r.code, r.body)
	}
	for _, p := range []string{"/", "/openapi.json", "/healthz", "/metrics"} {
		if r := ts.do(t, "GET", p, ""); r.code != http.StatusOK {
			t.Errorf("GET %s without a key: %d, want 200", p, r.code)
		}
	}
}

func TestKeyring(t *testing.T) {
	if _, err := newKeyring([]Key{{Secret: "short", Scope: ScopeSearch}}); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("short key: %v", err)
	}
	if _, err := newKeyring([]Key{{Secret: searchSecret, Scope: ScopeSearch}, {Secret: searchSecret, Scope: ScopeAdmin}}); err == nil {
		t.Error("the same secret twice was accepted")
	}
	if _, err := newKeyring([]Key{{Secret: "with a space 0123456789", Scope: ScopeSearch}}); err == nil {
		t.Error("a key with spaces was accepted")
	}
	kr, err := newKeyring(testKeys)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := kr.match(adminSecret); !ok || k.Scope != ScopeAdmin || k.Secret != "" {
		t.Errorf("match admin: %+v %v; want the admin key, without its secret", k, ok)
	}
	if _, ok := kr.match(adminSecret + "x"); ok {
		t.Error("a longer secret matched")
	}
}

func TestLoadKeysFile(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "keys.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keys, err := LoadKeysFile(write(`
keys:
  - name: web
    key: ` + searchSecret + `
    scope: search
    rate: 5
    burst: 10
  - key: ` + adminSecret + `
    scope: admin
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Name != "web" || keys[0].Scope != ScopeSearch || keys[0].Rate != 5 || keys[0].Burst != 10 || keys[1].Scope != ScopeAdmin {
		t.Errorf("keys %+v", keys)
	}
	if _, err := LoadKeysFile(write("keys:\n  - key: " + searchSecret + "\n    scope: root\n")); err == nil || !strings.Contains(err.Error(), "scope") {
		t.Errorf("bad scope: %v", err)
	}
	if _, err := LoadKeysFile(write("keys:\n  - key: " + searchSecret + "\n    scope: search\n    rate_limit: 5\n")); err == nil || !strings.Contains(err.Error(), "rate_limit") {
		t.Errorf("unknown field: %v", err)
	}
}
