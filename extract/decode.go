package extract

import (
	"bytes"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/saintfish/chardet"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
)

// maxSniffBytes is how far into a page a <meta charset> is looked for, as
// the HTML standard's prescan does.
const maxSniffBytes = 1024

// minCharsetConfidence is the least confidence (0 to 100) at which a
// detected charset is used rather than windows-1252. chardet gives about
// 40 to a page of KOI8-R Russian, and under 15 to its runner-up.
const minCharsetConfidence = 25

// toUTF8 returns a body as UTF-8 and the charset it was in. colly has
// already decoded a body whose Content-Type header names a charset; for the
// others Cari follows the HTML standard's order: a byte order mark, then a
// <meta charset> or <meta http-equiv="Content-Type"> in the first 1024
// bytes, then UTF-8 if the bytes are valid UTF-8, then statistical
// detection, and windows-1252 as the last resort.
func toUTF8(body []byte, contentType string, isHTML bool) ([]byte, string) {
	if _, params, err := mime.ParseMediaType(contentType); err == nil && params["charset"] != "" {
		return body, strings.ToLower(params["charset"])
	}
	if _, name, certain := charset.DetermineEncoding(body[:min(len(body), 4)], ""); certain {
		return decodeWith(body, name)
	}
	if isHTML {
		if label := metaCharset(body[:min(len(body), maxSniffBytes)]); label != "" {
			if enc, err := htmlindex.Get(label); err == nil {
				name, _ := htmlindex.Name(enc)
				return decode(body, enc), name
			}
		}
	}
	if utf8.Valid(body) {
		return body, "utf-8"
	}
	det := chardet.NewTextDetector()
	if isHTML {
		det = chardet.NewHtmlDetector()
	}
	if r, err := det.DetectBest(body); err == nil && r.Confidence >= minCharsetConfidence {
		if enc, err := htmlindex.Get(r.Charset); err == nil {
			name, _ := htmlindex.Name(enc)
			return decode(body, enc), name
		}
	}
	return decodeWith(body, "windows-1252")
}

func decodeWith(body []byte, label string) ([]byte, string) {
	enc, err := htmlindex.Get(label)
	if err != nil {
		return body, "utf-8"
	}
	name, _ := htmlindex.Name(enc)
	return decode(body, enc), name
}

func decode(body []byte, enc encoding.Encoding) []byte {
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return body
	}
	return out
}

// metaCharset finds the charset a page declares in a <meta> element.
func metaCharset(head []byte) string {
	z := html.NewTokenizer(bytes.NewReader(head))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "meta" || !hasAttr {
				continue
			}
			var httpEquiv, content, cs string
			for {
				k, v, more := z.TagAttr()
				switch strings.ToLower(string(k)) {
				case "charset":
					cs = string(v)
				case "http-equiv":
					httpEquiv = strings.ToLower(string(v))
				case "content":
					content = string(v)
				}
				if !more {
					break
				}
			}
			if cs != "" {
				return strings.TrimSpace(cs)
			}
			if httpEquiv == "content-type" {
				if _, params, err := mime.ParseMediaType(content); err == nil && params["charset"] != "" {
					return params["charset"]
				}
			}
		}
	}
}
