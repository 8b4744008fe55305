package exa

import "testing"

func TestDocURLs(t *testing.T) {
	def, err := newDocURLs("")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := newDocURLs("https://docs.example.org/{id}.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		urls     docURLs
		id, own  string
		want     string
		resolves bool // the built URL gives the ID back
	}{
		{"own URL wins", tmpl, "a", "https://site.example/a", "https://site.example/a", false},
		{"default scheme", def, "claim 17/x", "", "cari:doc/claim%2017%2Fx", true},
		{"template", tmpl, "claim 17/x", "", "https://docs.example.org/claim%2017%2Fx.html", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.urls.of(tc.id, tc.own)
			if got != tc.want {
				t.Fatalf("of(%q, %q) = %q, want %q", tc.id, tc.own, got, tc.want)
			}
			id, ok := tc.urls.id(got)
			if ok != tc.resolves || ok && id != tc.id {
				t.Errorf("id(%q) = %q, %v; want %q, %v", got, id, ok, tc.id, tc.resolves)
			}
		})
	}
	// The default scheme resolves with a template configured too, so URLs
	// handed out before the template was set keep working.
	if id, ok := tmpl.id("cari:doc/a%2Fb"); !ok || id != "a/b" {
		t.Errorf("id(cari:doc/a%%2Fb) with a template = %q, %v; want a/b", id, ok)
	}
	for _, u := range []string{"https://docs.example.org/.html", "https://docs.example.org/a.txt", "cari:doc/", "cari:doc/%zz"} {
		if id, ok := tmpl.id(u); ok {
			t.Errorf("id(%q) = %q; want no ID", u, id)
		}
	}
	for _, bad := range []string{"https://docs.example.org/", "{id}", "/docs/{id}", "https://x.example/{id}/{id}"} {
		if _, err := newDocURLs(bad); err == nil {
			t.Errorf("template %q: want an error", bad)
		}
	}
}
