// Package web holds Cari's search page. The TypeScript and static sources
// live in src/; `npm run build` (make web) compiles them into dist/, which
// is committed and embedded here, so `go build` needs no npm.
package web

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// Dist returns the built page: index.html, style.css and the compiled
// scripts, at the root of the file system.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only on an invalid path; "dist" is valid.
		panic(err)
	}
	return sub
}
