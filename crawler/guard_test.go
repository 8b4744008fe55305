package crawler

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestAddressKind(t *testing.T) {
	for addr, want := range map[string]string{
		"8.8.8.8":                "",
		"2606:4700:4700::1111":   "",
		"127.0.0.1":              "loopback",
		"127.255.0.9":            "loopback",
		"::1":                    "loopback",
		"::ffff:127.0.0.1":       "loopback",
		"10.1.2.3":               "private",
		"172.16.0.1":             "private",
		"172.31.255.255":         "private",
		"172.32.0.1":             "",
		"192.168.1.1":            "private",
		"fd12:3456::1":           "private",
		"169.254.169.254":        "cloud metadata",
		"::ffff:169.254.169.254": "cloud metadata",
		"fd00:ec2::254":          "cloud metadata",
		"100.100.100.200":        "cloud metadata",
		"168.63.129.16":          "cloud metadata",
		"169.254.1.1":            "link-local",
		"fe80::1":                "link-local",
		"fe80::1%eth0":           "link-local",
		"0.0.0.0":                "unspecified",
		"::":                     "unspecified",
		"100.64.0.1":             "shared (carrier-grade NAT)",
		"224.0.0.1":              "multicast",
		"ff02::1":                "multicast",
		"255.255.255.255":        "reserved",
		"192.0.2.1":              "documentation",
		"64:ff9b::a00:1":         "private", // NAT64 of 10.0.0.1
		"64:ff9b::808:808":       "",        // NAT64 of 8.8.8.8
		"2002:7f00:1::":          "loopback",
		"2002:a9fe:a9fe::1":      "cloud metadata",
		"::127.0.0.1":            "IPv4-compatible",
		"2001:db8::1":            "documentation",
		"2001::1":                "IETF protocol assignment", // Teredo
	} {
		if got := addressKind(netip.MustParseAddr(addr)); got != want {
			t.Errorf("addressKind(%s) = %q, want %q", addr, got, want)
		}
	}
}

func TestAddressPolicy(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	if err := (addressPolicy{}).check(lo); err == nil {
		t.Error("default policy allows loopback")
	}
	if err := (addressPolicy{allowPrivate: true}).check(lo); err != nil {
		t.Errorf("allowPrivate refuses loopback: %v", err)
	}
	p := addressPolicy{allowed: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}
	if err := p.check(netip.MustParseAddr("10.20.3.4")); err != nil {
		t.Errorf("allowed network refused: %v", err)
	}
	var blocked *BlockedAddressError
	if err := p.check(netip.MustParseAddr("10.21.0.1")); !errors.As(err, &blocked) || blocked.Kind != "private" {
		t.Errorf("10.21.0.1 outside the allowed network: %v", err)
	}
}

// TestGuardDialsNoBlockedAddress makes real requests through the crawler's
// HTTP client. Refused addresses fail in the dialer's Control function,
// before any packet is sent; a test check after the guard fails the test if
// anything but loopback ever reaches the connect step.
func TestGuardDialsNoBlockedAddress(t *testing.T) {
	var accepted atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			accepted.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	client := func(policy addressPolicy) *http.Client {
		o := Options{}.withDefaults()
		o.dialCheck = func(address string) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !ap.Addr().Unmap().IsLoopback() {
				t.Errorf("connect attempted to %s", address)
				return errDialForbidden
			}
			return nil
		}
		return newHTTPClient(o, policy, &robotsCache{})
	}
	closed := client(addressPolicy{})
	for _, u := range []string{
		"http://127.0.0.1:" + port + "/",
		"http://localhost:" + port + "/", // a name: checked after resolution
		"http://[::ffff:127.0.0.1]:" + port + "/",
		"http://10.0.0.1:" + port + "/",
		"http://169.254.169.254/latest/meta-data/",
		"http://[fd00:ec2::254]/",
		"http://[fe80::1]/",
		"http://0.0.0.0:" + port + "/",
	} {
		resp, err := closed.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		var blocked *BlockedAddressError
		if !errors.As(err, &blocked) {
			t.Errorf("GET %s: %v, want a *BlockedAddressError", u, err)
		}
		if reason, _ := errorReason(err); reason != "private_address" {
			t.Errorf("GET %s: error reason %q, want private_address", u, reason)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the loopback server accepted %d connections from the guarded client", n)
	}

	open := client(addressPolicy{allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	resp, err := open.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatalf("allowed loopback: %v", err)
	}
	resp.Body.Close()
	if accepted.Load() == 0 {
		t.Error("allowed request never connected")
	}
}

func TestCheckSeed(t *testing.T) {
	var blocked *BlockedAddressError
	if err := CheckSeed(t.Context(), nil, "http://127.0.0.1:8765/index.html", nil); !errors.As(err, &blocked) || blocked.Kind != "loopback" {
		t.Errorf("seed on 127.0.0.1: %v, want a loopback *BlockedAddressError", err)
	}
	if err := CheckSeed(t.Context(), nil, "http://localhost:8765/", nil); !errors.As(err, &blocked) {
		t.Errorf("seed on localhost: %v, want a *BlockedAddressError", err)
	}
	if err := CheckSeed(t.Context(), nil, "http://127.0.0.1:8765/", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}); err != nil {
		t.Errorf("seed on an allowed network: %v", err)
	}
	if err := CheckSeed(t.Context(), nil, "http://169.254.169.254/", nil); !errors.As(err, &blocked) || blocked.Kind != "cloud metadata" {
		t.Errorf("seed on the metadata address: %v", err)
	}
}

func TestParseNetworks(t *testing.T) {
	got, err := ParseNetworks("--allow-network", []string{"10.20.3.4/16", "fd00::1/8"})
	if err != nil || len(got) != 2 || got[0].String() != "10.20.0.0/16" || got[1].String() != "fd00::/8" {
		t.Errorf("ParseNetworks: %v %v, want the masked ranges", got, err)
	}
	if _, err := ParseNetworks("--allow-network", []string{"10.0.0.0"}); err == nil || !strings.Contains(err.Error(), `--allow-network "10.0.0.0"`) {
		t.Errorf("a range without a prefix length: %v, want an error naming the flag and the range", err)
	}
}
