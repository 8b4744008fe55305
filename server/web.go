package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// webCSP allows the page only its own origin: no CDN, no inline script, no
// framing. connect-src 'self' is where the page sends its searches.
const webCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Web serves the static files of fsys (the built search page) with
// index.html at /, a strict Content-Security-Policy, and ETags so that
// browsers revalidate rather than refetch.
func Web(fsys fs.FS) (http.Handler, error) {
	files := map[string]webFile{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = http.DetectContentType(b)
		}
		files["/"+p] = webFile{body: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: ctype}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web files: %w", err)
	}
	if _, ok := files["/index.html"]; !ok {
		return nil, fmt.Errorf("web files: no index.html")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := r.URL.Path
		if p == "/" {
			p = "/index.html"
		}
		f, ok := files[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("ETag", f.etag)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if strings.HasPrefix(f.ctype, "text/html") {
			h.Set("Content-Security-Policy", webCSP)
			h.Set("X-Frame-Options", "DENY")
		}
		http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(f.body))
	}), nil
}

type webFile struct {
	body  []byte
	etag  string
	ctype string
}
