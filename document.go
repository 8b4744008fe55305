// Package cari holds the types that every stage of the pipeline shares:
// the crawler and the corpus importers produce Documents, the indexer stores
// them, and the searcher returns them.
package cari

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Limits on a Document's fields. They bound what one document can cost the
// index; a crawler or importer truncates or skips anything larger.
const (
	MaxIDBytes    = 512
	MaxURLBytes   = 8 << 10
	MaxTitleBytes = 4 << 10
	MaxTextBytes  = 4 << 20
)

// Document is one retrievable unit of content: a web page or a corpus record.
type Document struct {
	// ID is stable across re-crawls and re-imports: the corpus id, or
	// DocumentID of the canonical URL.
	ID string
	// URL is the canonical URL; empty for corpus records that have none.
	URL string
	// Title is the page or record title, possibly empty.
	Title string
	// Text is the main content with boilerplate removed.
	Text string
	// Author as the page states it, possibly empty.
	Author string
	// Published is when the content says it was published; zero if unknown.
	Published time.Time
	// Crawled is when Cari fetched or imported the document.
	Crawled time.Time
	// Language is a BCP 47 tag such as "en" or "id"; empty if unknown.
	Language string
	// Domain is the URL's host in lower case without a "www." prefix.
	Domain string
	// ContentHash is the hex SHA-256 of Text, for duplicate detection.
	ContentHash string
	// Category is Exa's category of the document ("research paper",
	// "news", ...; see analysis/category), or empty for none. A producer
	// that knows it may set it; otherwise the indexer decides it from the
	// URL, title and text when the document is indexed.
	Category string
	// Chunks are the document's passages as a store holds them: set on
	// documents loaded from a store, ignored on documents written to one
	// (the indexer chunks those).
	Chunks []Chunk
}

// Chunk is a passage of a document: the unit that is embedded and retrieved
// on the vector side. Start and End are byte offsets into the document's
// Text, so a passage can be shown in place.
type Chunk struct {
	// Ordinal is the passage's position in the document, from 0.
	Ordinal int
	// Start and End delimit the passage in Document.Text.
	Start, End int
}

// PassageText is what gets embedded for a passage: the document's title
// carried with the passage text, so a passage that never names its subject
// still matches queries about it. The indexer embeds it, and find-similar
// embeds a stored document the same way to compare like with like.
func PassageText(d Document, c Chunk) string {
	body := d.Text[c.Start:c.End]
	switch {
	case d.Title == "":
		return body
	case body == "":
		return d.Title
	}
	return d.Title + "\n" + body
}

// DocumentID returns the stable ID of a document known only by its URL: the
// first 16 bytes of the SHA-256 of the URL, in hex.
func DocumentID(canonicalURL string) string {
	sum := sha256.Sum256([]byte(canonicalURL))
	return hex.EncodeToString(sum[:16])
}

// ContentHash returns the hex SHA-256 of text.
func ContentHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// DomainOf returns the domain Cari files a URL under: its host in lower case,
// without port and without a leading "www.". It returns "" for a URL without
// a host.
func DomainOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return NormalizeDomain(u.Hostname())
}

// NormalizeDomain lower-cases a host name and drops a leading "www.", so that
// a domain filter written either way matches.
func NormalizeDomain(host string) string {
	host = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	return strings.TrimPrefix(host, "www.")
}

// FieldError reports an invalid field of a request or a document. Field is the
// field's name as the caller wrote it (for example "num_results" or
// "documents[3].url").
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Normalize fills the fields that can be derived (ID from URL, Domain,
// ContentHash), brings Language to its canonical form and checks the rest. It returns a *FieldError naming the first
// invalid field.
func (d *Document) Normalize() error {
	if d.URL != "" {
		if len(d.URL) > MaxURLBytes {
			return &FieldError{"url", fmt.Sprintf("longer than %d bytes", MaxURLBytes)}
		}
		if !utf8.ValidString(d.URL) {
			return &FieldError{"url", "not valid UTF-8"}
		}
		u, err := url.Parse(d.URL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return &FieldError{"url", fmt.Sprintf("not an absolute URL: %q", d.URL)}
		}
		if d.Domain == "" {
			d.Domain = NormalizeDomain(u.Hostname())
		}
	}
	if d.ID == "" {
		if d.URL == "" {
			return &FieldError{"id", "empty, and no url to derive it from"}
		}
		d.ID = DocumentID(d.URL)
	}
	checks := []struct {
		field, value string
		max          int
	}{
		{"id", d.ID, MaxIDBytes},
		{"url", d.URL, MaxURLBytes},
		{"domain", d.Domain, 253},
		{"title", d.Title, MaxTitleBytes},
		{"text", d.Text, MaxTextBytes},
		{"author", d.Author, MaxTitleBytes},
		{"language", d.Language, 35},
	}
	for _, c := range checks {
		if len(c.value) > c.max {
			return &FieldError{c.field, fmt.Sprintf("longer than %d bytes (%d)", c.max, len(c.value))}
		}
		if !utf8.ValidString(c.value) {
			return &FieldError{c.field, "not valid UTF-8"}
		}
		if strings.ContainsRune(c.value, 0) {
			return &FieldError{c.field, "contains a NUL byte"}
		}
	}
	lang, err := LanguageTag(d.Language)
	if err != nil {
		return &FieldError{"language", err.Error()}
	}
	d.Language = lang
	if strings.TrimSpace(d.Title) == "" && strings.TrimSpace(d.Text) == "" {
		return &FieldError{"text", "title and text are both empty"}
	}
	d.Domain = NormalizeDomain(d.Domain)
	if d.ContentHash == "" {
		d.ContentHash = ContentHash(d.Text)
	}
	return nil
}

// LanguageTag returns tag in its canonical BCP 47 form ("EN" and "eng" are
// "en", "en_US" is "en-US"), the form that picks its language's analysis;
// "" and "und" (undetermined) are "", a language to detect. A tag that is
// not BCP 47, or names no known language ("english", "xx"), is an error:
// a document carrying it would be analysed as of no language.
func LanguageTag(tag string) (string, error) {
	tag = strings.TrimSpace(tag)
	if tag == "" {
		return "", nil
	}
	t, err := language.Parse(tag)
	if err != nil {
		return "", fmt.Errorf("%q is not a BCP 47 language tag such as en or pt-BR (%v)", tag, err)
	}
	if t == language.Und {
		return "", nil
	}
	return t.String(), nil
}
