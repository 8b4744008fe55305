package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/cari-search/cari/internal/flagconfig"
)

// parseServeFlags registers serve's flags on a fresh set and parses args.
func parseServeFlags(t *testing.T, args ...string) (*serveFlags, *pflag.FlagSet) {
	t.Helper()
	var f serveFlags
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	f.register(fs)
	fs.String("log-level", "info", "log level")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &f, fs
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cari.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeConfig checks cari serve's registration with the configuration
// layer (internal/flagconfig tests the layer): its flags, and flags from
// elsewhere, take file and environment values; the admin keys are masked.
func TestServeConfig(t *testing.T) {
	file := writeConfig(t, `
http:
  cors_origins: [https://a.example, https://b.example]
limit-request-bytes: 2MiB
log-level: debug
auth:
  search_key_collections: [docs, kb]
`)
	f, fs := parseServeFlags(t, "--config", file, "--grpc-addr", "127.0.0.1:2001")
	cfg, err := configuration.Load(fs, []string{"CARI_AUTH_ADMIN_KEYS=k1-0123456789abcdef,k2-0123456789abcdef", "CARI_AUTH_ADMIN_KEY_COLLECTIONS=docs", "CARI_RERANK_API_KEY=x", "CARI_TYPO=1"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.http.CORSOrigins, " ") != "https://a.example https://b.example" || f.requestBytes != 2<<20 || len(f.keyLists.Admin) != 2 ||
		fs.Lookup("log-level").Value.String() != "debug" || f.shutdown != 10*time.Second {
		t.Errorf("cors %v, request bytes %d, admin keys %d, log level %s, shutdown %s", f.http.CORSOrigins, f.requestBytes, len(f.keyLists.Admin), fs.Lookup("log-level").Value, f.shutdown)
	}
	if k := f.keyLists; strings.Join(k.SearchCollections, " ") != "docs kb" || strings.Join(k.AdminCollections, " ") != "docs" {
		t.Errorf("key collections: search %v, admin %v; want docs kb from the file, docs from the environment", k.SearchCollections, k.AdminCollections)
	}
	if cfg.Source["data"] != flagconfig.FromDefault || strings.Join(cfg.UnknownEnv, ",") != "CARI_TYPO" {
		t.Errorf("source of --data %q, unknown variables %v", cfg.Source["data"], cfg.UnknownEnv)
	}
	var out bytes.Buffer
	if err := cfg.Print(&out, fs, "cari serve"); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Contains(s, "k1-0123456789abcdef") || !strings.Contains(s, "auth-admin-keys: ['********', '********'] # env CARI_AUTH_ADMIN_KEYS") {
		t.Errorf("config print does not mask the admin keys:\n%s", s)
	}
	_, fresh := parseServeFlags(t)
	if _, err := configuration.Load(fresh, []string{"CARI_CONFIG=" + writeConfig(t, "grpc-adr: x\n")}); err == nil || !strings.Contains(err.Error(), "see cari config print") {
		t.Errorf("an unknown key gives %v, want an error that points at cari config print", err)
	}
}

func TestServeFlagsCheck(t *testing.T) {
	for _, args := range [][]string{
		{"--limit-num-results", "0"},
		{"--limit-num-results", "101"},
		{"--limit-request-bytes", "10"},
		{"--limit-upload-bytes", "1KiB"},
		{"--limit-rate", "-1"},
		{"--tracing-sample-ratio", "1.5"},
	} {
		f, _ := parseServeFlags(t, args...)
		if err := f.check(); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if f, _ := parseServeFlags(t); f.check() != nil {
		t.Errorf("the defaults fail the check: %v", f.check())
	}
}
