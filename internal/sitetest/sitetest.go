// Package sitetest serves a small web site on loopback for the tests that
// crawl one: the MCP crawl tool's, in server/mcp and in cmd/cari's end to
// end tests.
package sitetest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Lighthouses are three linked pages about lighthouses, and a link to one
// that is not there: a crawl from "/" indexes three pages and counts the
// missing one.
var Lighthouses = map[string]string{
	"/":       `<a href="/lamp">The lamp</a> <a href="/keeper">The keeper</a> <a href="/gone">Gone</a> Lighthouses of the northern coast.`,
	"/lamp":   `The lighthouse lamp turns once every ten seconds, its beam visible from thirty kilometres.`,
	"/keeper": `The lighthouse keeper climbs the tower at dusk to light the lamp and at dawn to put it out.`,
}

// Serve serves pages, each path's body as the main text of an HTML page
// titled after the path, until the test ends; any other path is 404
// (robots.txt too, which allows everything). It returns the site's URL.
func Serve(t testing.TB, pages map[string]string) string {
	t.Helper()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<html><head><title>Page %s</title></head><body><main><p>%s</p></main></body></html>", r.URL.Path, body)
	}))
	t.Cleanup(site.Close)
	return site.URL
}
