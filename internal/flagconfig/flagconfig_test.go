package flagconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

var testLoader = Loader{Prefix: "CARI_", FileFlag: "config", FileEnv: "CARI_CONFIG", KnownEnv: []string{"CARI_API_KEY"}, PrintCommand: "cari config print"}

// settings are a server's flags, as a command would register them.
type settings struct {
	grpcAddr, httpAddr string
	corsOrigins        []string
	adminKeys          []string
	rate               float64
	burst              int
	requestBytes       ByteSize
	requestTimeout     time.Duration
	shutdown           time.Duration
}

func parseFlags(t *testing.T, args ...string) (*settings, *pflag.FlagSet) {
	t.Helper()
	var s settings
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.String("config", "", "config file")
	fs.StringVar(&s.grpcAddr, "grpc-addr", "127.0.0.1:7700", "gRPC listen address (host:port)")
	fs.StringVar(&s.httpAddr, "http-addr", "127.0.0.1:7701", "HTTP listen address")
	fs.StringSliceVar(&s.corsOrigins, "http-cors-origins", nil, "origins")
	fs.StringSliceVar(&s.adminKeys, "auth-admin-keys", nil, "admin keys")
	MarkSecret(fs, "auth-admin-keys")
	fs.Float64Var(&s.rate, "limit-rate", 20, "rate")
	fs.IntVar(&s.burst, "limit-burst", 40, "burst")
	s.requestBytes = 4 << 20
	fs.Var(&s.requestBytes, "limit-request-bytes", "largest request")
	fs.DurationVar(&s.requestTimeout, "limit-request-timeout", time.Minute, "longest request")
	fs.DurationVar(&s.shutdown, "shutdown-timeout", 10*time.Second, "shutdown")
	fs.String("log-level", "info", "log level")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &s, fs
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cari.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedence(t *testing.T) {
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
	f, fs := parseFlags(t, "--config", file, "--grpc-addr", "127.0.0.1:2001")
	cfg, err := testLoader.Load(fs, []string{"CARI_HTTP_ADDR=127.0.0.1:3002", "CARI_AUTH_ADMIN_KEYS=k1-0123456789abcdef,k2-0123456789abcdef", "PATH=/bin", "CARI_TYPO=1", "CARI_API_KEY=x"})
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
		{"log-level (file)", fs.Lookup("log-level").Value.String(), "debug"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	wantSource := map[string]string{"grpc-addr": FromFlag, "http-addr": FromEnv, "limit-rate": FromFile, "shutdown-timeout": FromDefault}
	for name, want := range wantSource {
		if cfg.Source[name] != want {
			t.Errorf("source of %s = %q, want %q", name, cfg.Source[name], want)
		}
	}
	if strings.Join(cfg.UnknownEnv, ",") != "CARI_TYPO" {
		t.Errorf("unknown environment variables %v, want CARI_TYPO", cfg.UnknownEnv)
	}

	var out bytes.Buffer
	if err := cfg.Print(&out, fs, "cari serve"); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Contains(s, "k1-0123456789abcdef") || !strings.Contains(s, "auth-admin-keys: ['********', '********'] # env CARI_AUTH_ADMIN_KEYS") {
		t.Errorf("Print does not mask the admin keys:\n%s", s)
	}
	for _, want := range []string{"limit-rate: 3.5 # file", "limit-request-bytes: 2MiB # file", "grpc-addr: 127.0.0.1:2001 # flag", "# gRPC listen address (host:port)",
		"# Effective configuration of cari serve.", "# Unknown environment variables, ignored: CARI_TYPO"} {
		if !strings.Contains(s, want) {
			t.Errorf("Print lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "config:") {
		t.Errorf("Print lists the --config flag as a setting:\n%s", s)
	}

	t.Run("printed config reads back", func(t *testing.T) {
		// A printed configuration is a valid config file (secrets aside).
		printed := strings.ReplaceAll(s, "['********', '********']", "[]")
		f2, fs2 := parseFlags(t, "--config", writeConfig(t, printed))
		if _, err := testLoader.Load(fs2, nil); err != nil {
			t.Fatalf("reading the printed configuration: %v", err)
		}
		if f2.grpcAddr != "127.0.0.1:2001" || f2.rate != 3.5 || f2.requestBytes != 2<<20 {
			t.Errorf("read back grpc-addr %s, limit-rate %v, limit-request-bytes %d", f2.grpcAddr, f2.rate, f2.requestBytes)
		}
	})
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name, file string
		env        []string
		want       string
	}{
		{"unknown key", "grpc-adr: x\n", nil, `unknown setting "grpc-adr" (no flag --grpc-adr; see cari config print)`},
		{"help is no setting", "help: true\n", nil, `unknown setting "help"`},
		{"config is no setting", "config: other.yaml\n", nil, `unknown setting "config"`},
		{"bad value in file", "limit-rate: fast\n", nil, "limit-rate"},
		{"list for a single value", "grpc-addr: [a, b]\n", nil, "one value"},
		{"bad value in env", "", []string{"CARI_LIMIT_BURST=many"}, "CARI_LIMIT_BURST"},
		{"bad size", "limit-request-bytes: 12XB\n", nil, "16MiB"},
		{"not a mapping", "- a\n- b\n", nil, "mapping"},
		{"set twice", "http-addr: a\nhttp:\n  addr: b\n", nil, "twice"},
		{"no value", "http-addr:\n", nil, "no value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var args []string
			if c.file != "" {
				args = []string{"--config", writeConfig(t, c.file)}
			}
			_, fs := parseFlags(t, args...)
			_, err := testLoader.Load(fs, c.env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error mentioning %q", err, c.want)
			}
		})
	}
	t.Run("config from the file variable", func(t *testing.T) {
		f, fs := parseFlags(t)
		if _, err := testLoader.Load(fs, []string{"CARI_CONFIG=" + writeConfig(t, "limit-burst: 7\n")}); err != nil || f.burst != 7 {
			t.Errorf("burst %d, %v; want 7 from the file CARI_CONFIG names", f.burst, err)
		}
	})
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "512KiB": 512 << 10, "16MiB": 16 << 20, "1GiB": 1 << 30, "100B": 100, "0": 0} {
		var b ByteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1.5MiB", "1TB", "lots"} {
		var b ByteSize
		if err := b.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
	for v, want := range map[ByteSize]string{16 << 20: "16MiB", 1 << 30: "1GiB", 1500: "1500", 0: "0", 3 << 10: "3KiB"} {
		if got := v.String(); got != want {
			t.Errorf("%d prints %q, want %q", int64(v), got, want)
		}
	}
}

func TestSecretByName(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.String("rerank-api-key", "", "")
	fs.String("db-password", "", "")
	fs.Int("rerank-max-tokens", 0, "")
	fs.String("addr", "", "")
	for name, want := range map[string]bool{"rerank-api-key": true, "db-password": true, "rerank-max-tokens": false, "addr": false} {
		if got := isSecret(fs.Lookup(name)); got != want {
			t.Errorf("isSecret(--%s) = %v, want %v", name, got, want)
		}
	}
}
