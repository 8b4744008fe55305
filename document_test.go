package cari

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name      string
		in        Document
		wantField string   // "" when the document is valid
		want      Document // derived fields checked when valid: ID, Domain, ContentHash
	}{
		{"ID derived from URL", Document{URL: "https://example.com/a?b=c", Text: "t"}, "",
			Document{ID: DocumentID("https://example.com/a?b=c"), Domain: "example.com", ContentHash: ContentHash("t")}},
		{"given ID kept", Document{ID: "corpus-1", URL: "https://example.com/", Text: "t"}, "",
			Document{ID: "corpus-1", Domain: "example.com", ContentHash: ContentHash("t")}},
		{"www and port stripped, lower-cased", Document{URL: "http://WWW.Example.COM:8080/x", Title: "only title"}, "",
			Document{ID: DocumentID("http://WWW.Example.COM:8080/x"), Domain: "example.com", ContentHash: ContentHash("")}},
		{"given domain kept and normalized", Document{ID: "1", URL: "https://cdn.example.net/x", Domain: "WWW.Example.org", Text: "t"}, "",
			Document{ID: "1", Domain: "example.org", ContentHash: ContentHash("t")}},
		{"no URL, no domain", Document{ID: "1", Text: "t"}, "",
			Document{ID: "1", ContentHash: ContentHash("t")}},
		{"given content hash kept", Document{ID: "1", Text: "t", ContentHash: "abc"}, "",
			Document{ID: "1", ContentHash: "abc"}},
		{"text at the limit", Document{ID: "1", Text: strings.Repeat("x", MaxTextBytes)}, "",
			Document{ID: "1", ContentHash: ContentHash(strings.Repeat("x", MaxTextBytes))}},
		{"relative URL", Document{URL: "/path/page", Text: "t"}, "url", Document{}},
		{"URL without scheme", Document{URL: "example.com/page", Text: "t"}, "url", Document{}},
		{"scheme-relative URL", Document{URL: "//example.com/page", Text: "t"}, "url", Document{}},
		{"URL without host", Document{URL: "mailto:someone@example.com", Text: "t"}, "url", Document{}},
		{"unparsable URL", Document{URL: "http://exa mple.com/", Text: "t"}, "url", Document{}},
		{"URL too long", Document{URL: "https://example.com/" + strings.Repeat("a", MaxURLBytes), Text: "t"}, "url", Document{}},
		{"no ID and no URL", Document{Text: "t"}, "id", Document{}},
		{"ID too long", Document{ID: strings.Repeat("i", MaxIDBytes+1), Text: "t"}, "id", Document{}},
		{"NUL in ID", Document{ID: "a\x00b", Text: "t"}, "id", Document{}},
		{"NUL in text", Document{ID: "1", Text: "a\x00b"}, "text", Document{}},
		{"NUL in title", Document{ID: "1", Title: "\x00", Text: "t"}, "title", Document{}},
		{"invalid UTF-8 text", Document{ID: "1", Text: "caf\xe9"}, "text", Document{}},
		{"invalid UTF-8 author", Document{ID: "1", Text: "t", Author: "\xff"}, "author", Document{}},
		{"text too long", Document{ID: "1", Text: strings.Repeat("x", MaxTextBytes+1)}, "text", Document{}},
		{"title too long", Document{ID: "1", Title: strings.Repeat("x", MaxTitleBytes+1)}, "title", Document{}},
		{"language too long", Document{ID: "1", Text: "t", Language: strings.Repeat("a", 36)}, "language", Document{}},
		{"title and text empty", Document{ID: "1"}, "text", Document{}},
		{"title and text blank", Document{ID: "1", Title: " \n", Text: "\t "}, "text", Document{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.in
			err := d.Normalize()
			if tt.wantField != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantField {
					t.Fatalf("Normalize() = %v, want a *FieldError on %q", err, tt.wantField)
				}
				if !strings.HasPrefix(err.Error(), tt.wantField+": ") {
					t.Errorf("error %q does not start with the field name", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize() = %v, want nil", err)
			}
			if d.ID != tt.want.ID || d.Domain != tt.want.Domain || d.ContentHash != tt.want.ContentHash {
				t.Errorf("Normalize() gave ID %q, Domain %q, ContentHash %q; want %q, %q, %q",
					d.ID, d.Domain, d.ContentHash, tt.want.ID, tt.want.Domain, tt.want.ContentHash)
			}
			if d.URL != tt.in.URL || d.Text != tt.in.Text || d.Title != tt.in.Title {
				t.Errorf("Normalize() changed URL, title or text: %+v", d)
			}
		})
	}
}

func TestNormalizeChecksURLAndDomain(t *testing.T) {
	for _, d := range []Document{
		{URL: "https://example.com/caf\xe9", Text: "t"},
		{URL: "https://ex\xffample.com/", Text: "t"},
		{ID: "1", Text: "t", Domain: "exa\x00mple.com"},
		{ID: "1", Text: "t", Domain: "caf\xe9.example"},
	} {
		err := d.Normalize()
		var fe *FieldError
		if !errors.As(err, &fe) || (fe.Field != "url" && fe.Field != "domain") {
			t.Errorf("Normalize(%q, %q) = %v, want a FieldError on url or domain", d.URL, d.Domain, err)
		}
	}
}

func TestDocumentIDAndContentHash(t *testing.T) {
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	id := DocumentID("https://example.com/")
	if !hex32.MatchString(id) {
		t.Errorf("DocumentID = %q, want 32 lower-case hex digits", id)
	}
	if DocumentID("https://example.com/") != id {
		t.Error("DocumentID is not stable")
	}
	if DocumentID("https://example.com") == id {
		t.Error("different URLs share an ID")
	}
	// SHA-256 of the empty string, a fixed known value.
	if got := ContentHash(""); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("ContentHash(\"\") = %s", got)
	}
}

func TestDomainOf(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://example.com/a", "example.com"},
		{"https://www.example.com/a", "example.com"},
		{"HTTP://WWW.EXAMPLE.COM:8443/A", "example.com"},
		{"https://docs.example.com", "docs.example.com"},
		{"https://www2.example.com", "www2.example.com"},
		{"https://www.www.example.com", "www.example.com"},
		{"https://example.com./x", "example.com"},
		{"https://user:pw@example.com/", "example.com"},
		{"http://[::1]:8080/", "::1"},
		{"http://127.0.0.1/", "127.0.0.1"},
		{"example.com/path", ""},
		{"/relative", ""},
		{"", ""},
		{"http://%zz/", ""},
	}
	for _, tt := range tests {
		if got := DomainOf(tt.url); got != tt.want {
			t.Errorf("DomainOf(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestNormalizeDomain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Example.COM", "example.com"},
		{" www.example.com ", "example.com"},
		{"www.example.com.", "example.com"},
		{"example.com", "example.com"},
		{"wwwexample.com", "wwwexample.com"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeDomain(tt.in); got != tt.want {
			t.Errorf("NormalizeDomain(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestNormalizeLanguage: a document's language is stored in its canonical
// BCP 47 form, which picks its analysis, and one that is not a language tag
// is refused naming the field rather than analysed as of no language.
func TestNormalizeLanguage(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "und": "", " en ": "en", "EN": "en", "eng": "en", "en_US": "en-US",
		"id": "id", "in": "id", "zh-Hant-TW": "zh-Hant-TW", "pt-br": "pt-BR",
	} {
		d := Document{ID: "a", Text: "x", Language: in}
		if err := d.Normalize(); err != nil || d.Language != want {
			t.Errorf("language %q: got %q, %v; want %q", in, d.Language, err, want)
		}
	}
	for _, in := range []string{"english", "xx", "en us", "1en", "en-", "fr/ca"} {
		d := Document{ID: "a", Text: "x", Language: in}
		err := d.Normalize()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "language" || !strings.Contains(fe.Reason, strconv.Quote(in)) {
			t.Errorf("language %q: error %v, want a FieldError on language quoting the value", in, err)
		}
	}
}

func TestPassageText(t *testing.T) {
	d := Document{Title: "Whales", Text: "Blue whales eat krill."}
	if got := PassageText(d, Chunk{Start: 0, End: 11}); got != "Whales\nBlue whales" {
		t.Errorf("PassageText = %q", got)
	}
	if got := PassageText(Document{Text: "x"}, Chunk{End: 1}); got != "x" {
		t.Errorf("untitled PassageText = %q", got)
	}
	if got := PassageText(d, Chunk{}); got != "Whales" {
		t.Errorf("empty passage = %q, want the title", got)
	}
}
