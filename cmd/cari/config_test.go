package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
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

func TestConfigPrecedence(t *testing.T) {
	file := writeConfig(t, `
grpc-addr: 127.0.0.1:1001   # the flag wins
http:
  addr: 127.0.0.1:1002      # the environment wins
  cors_origins: [https://a.example, https://b.example]
limit_rate: 3.5
limit-request-bytes: 2MiB
limit-request-timeout: 5s
log-level: debug
`)
	f, fs := parseServeFlags(t, "--config", file, "--grpc-addr", "127.0.0.1:2001")
	cfg, err := loadConfig(fs, []string{"CARI_HTTP_ADDR=127.0.0.1:3002", "CARI_AUTH_ADMIN_KEYS=k1-0123456789abcdef,k2-0123456789abcdef", "PATH=/bin", "CARI_TYPO=1"})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"grpc-addr (flag over file)", f.grpcAddr, "127.0.0.1:2001"},
		{"http-addr (env over file)", f.httpAddr, "127.0.0.1:3002"},
		{"cors origins (file, nested)", strings.Join(f.corsOrigins, " "), "https://a.example https://b.example"},
		{"limit-rate (file, snake_case)", f.rate, 3.5},
		{"limit-request-bytes (file, unit)", int64(f.requestBytes), int64(2 << 20)},
		{"limit-request-timeout (file)", f.requestTimeout, 5 * time.Second},
		{"admin keys (env list)", len(f.adminKeys), 2},
		{"shutdown-timeout (default)", f.shutdown, 10 * time.Second},
		{"log-level (file, a flag from elsewhere)", fs.Lookup("log-level").Value.String(), "debug"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	wantSource := map[string]string{"grpc-addr": fromFlag, "http-addr": fromEnv, "limit-rate": fromFile, "shutdown-timeout": fromDefault, "data": fromDefault}
	for name, want := range wantSource {
		if cfg.source[name] != want {
			t.Errorf("source of %s = %q, want %q", name, cfg.source[name], want)
		}
	}
	if strings.Join(cfg.unknownEnv, ",") != "CARI_TYPO" {
		t.Errorf("unknown environment variables %v, want CARI_TYPO", cfg.unknownEnv)
	}

	var out bytes.Buffer
	if err := printConfig(&out, fs, cfg); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Contains(s, "k1-0123456789abcdef") || !strings.Contains(s, "auth-admin-keys: ['********', '********'] # env CARI_AUTH_ADMIN_KEYS") {
		t.Errorf("config print does not mask the admin keys:\n%s", s)
	}
	for _, want := range []string{"limit-rate: 3.5 # file", "limit-request-bytes: 2MiB # file", "grpc-addr: 127.0.0.1:2001 # flag", "# gRPC listen address (host:port)"} {
		if !strings.Contains(s, want) {
			t.Errorf("config print lacks %q:\n%s", want, s)
		}
	}

	t.Run("printed config reads back", func(t *testing.T) {
		// A printed configuration is a valid config file (secrets aside).
		printed := strings.ReplaceAll(s, "['********', '********']", "[]")
		f2, fs2 := parseServeFlags(t, "--config", writeConfig(t, printed))
		if _, err := loadConfig(fs2, nil); err != nil {
			t.Fatalf("reading the printed configuration: %v", err)
		}
		if f2.grpcAddr != "127.0.0.1:2001" || f2.rate != 3.5 || f2.requestBytes != 2<<20 {
			t.Errorf("read back grpc-addr %s, limit-rate %v, limit-request-bytes %d", f2.grpcAddr, f2.rate, f2.requestBytes)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name, file string
		env        []string
		want       string
	}{
		{"unknown key", "grpc-adr: x\n", nil, `unknown setting "grpc-adr"`},
		{"help is no setting", "help: true\n", nil, `unknown setting "help"`},
		{"bad value in file", "limit-rate: fast\n", nil, "limit-rate"},
		{"list for a single value", "grpc-addr: [a, b]\n", nil, "one value"},
		{"bad value in env", "", []string{"CARI_LIMIT_BURST=many"}, "CARI_LIMIT_BURST"},
		{"bad size", "limit-request-bytes: 12XB\n", nil, "16MiB"},
		{"not a mapping", "- a\n- b\n", nil, "mapping"},
		{"set twice", "http-addr: a\nhttp:\n  addr: b\n", nil, "twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var args []string
			if c.file != "" {
				args = []string{"--config", writeConfig(t, c.file)}
			}
			_, fs := parseServeFlags(t, args...)
			_, err := loadConfig(fs, c.env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error mentioning %q", err, c.want)
			}
		})
	}
	t.Run("config from CARI_CONFIG", func(t *testing.T) {
		f, fs := parseServeFlags(t)
		if _, err := loadConfig(fs, []string{"CARI_CONFIG=" + writeConfig(t, "limit-burst: 7\n")}); err != nil || f.burst != 7 {
			t.Errorf("burst %d, %v; want 7 from the file CARI_CONFIG names", f.burst, err)
		}
	})
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "512KiB": 512 << 10, "16MiB": 16 << 20, "1GiB": 1 << 30, "100B": 100, "0": 0} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1.5MiB", "1TB", "lots"} {
		var b byteSize
		if err := b.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
	for v, want := range map[byteSize]string{16 << 20: "16MiB", 1 << 30: "1GiB", 1500: "1500", 0: "0", 3 << 10: "3KiB"} {
		if got := v.String(); got != want {
			t.Errorf("%d prints %q, want %q", int64(v), got, want)
		}
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
