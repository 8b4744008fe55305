package crawler

import "testing"

func TestHostOf(t *testing.T) {
	if got := hostOf("http://example.com:8080/a?b"); got != "http://example.com:8080" {
		t.Errorf("hostOf = %q", got)
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for h, want := range map[string]bool{
		"http://127.0.0.1:8080": true, "http://localhost": true, "http://[::1]:80": true,
		"http://127.9.9.9": true, "http://example.com": false, "http://10.0.0.1": false, "http://[::ffff:127.0.0.1]": true,
	} {
		if got := isLoopbackHost(h); got != want {
			t.Errorf("isLoopbackHost(%q) = %v, want %v", h, got, want)
		}
	}
}
