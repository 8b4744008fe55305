package extract

import (
	"errors"
	"testing"
)

func TestCanonicalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"HTTP://Example.COM/a/b", "http://example.com/a/b"},
		{"http://example.com", "http://example.com/"},
		{"http://example.com:80/x", "http://example.com/x"},
		{"https://example.com:443/x", "https://example.com/x"},
		{"https://example.com:8443/x", "https://example.com:8443/x"},
		{"http://example.com:/x", "http://example.com/x"},
		{"http://example.com./x", "http://example.com/x"},
		{"http://user:pw@example.com/x", "http://example.com/x"},
		{"http://example.com/a#frag", "http://example.com/a"},
		{"http://example.com/a/./b/../c", "http://example.com/a/c"},
		{"http://example.com/a/b/..", "http://example.com/a/"},
		{"http://example.com/../../x", "http://example.com/x"},
		{"http://example.com/%7euser/%41%2f%2F", "http://example.com/~user/A%2F%2F"},
		{"http://example.com/a b", "http://example.com/a%20b"},
		{"http://example.com/caf%c3%a9", "http://example.com/caf%C3%A9"},
		{"http://example.com/café", "http://example.com/caf%C3%A9"},
		{"http://bücher.example/", "http://xn--bcher-kva.example/"},
		{"http://[::1]:8080/x", "http://[::1]:8080/x"},
		{"http://example.com/?b=2&a=1", "http://example.com/?a=1&b=2"},
		{"http://example.com/?a=2&a=1", "http://example.com/?a=2&a=1"},
		{"http://example.com/?utm_source=x&id=7&utm_medium=y", "http://example.com/?id=7"},
		{"http://example.com/?fbclid=1&gclid=2&MSCLKID=3", "http://example.com/"},
		{"http://example.com/?", "http://example.com/"},
		{"http://example.com/?&&a=1&", "http://example.com/?a=1"},
		{"http://example.com/?q=a+b&x=%2f", "http://example.com/?q=a+b&x=%2F"},
		{"http://example.com/p?utm_campaign=z#x", "http://example.com/p"},
	} {
		got, err := Canonicalize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Canonicalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if again, _ := Canonicalize(got); again != got {
			t.Errorf("Canonicalize is not idempotent on %q: %q", got, again)
		}
	}
	for _, in := range []string{"ftp://example.com/", "mailto:a@b.c", "/relative", "javascript:alert(1)", "http:///nohost", "http://exa mple.com/"} {
		if got, err := Canonicalize(in); !errors.Is(err, ErrNotHTTP) {
			t.Errorf("Canonicalize(%q) = %q, %v; want ErrNotHTTP", in, got, err)
		}
	}
}
