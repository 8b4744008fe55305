package mcp_test

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari/internal/sitetest"
	"github.com/cari-search/cari/server"
)

// crawling lets the server crawl the loopback site without delays.
func crawling(t *testing.T) func(*server.Options) {
	return func(o *server.Options) {
		o.Crawl = server.CrawlOptions{
			StateDir: t.TempDir(), Contact: "https://example.org/bot", MinHostDelay: -1, DefaultHostDelay: -1,
			ProgressInterval: 20 * time.Millisecond, AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		}
	}
}

// An admin key crawls into the collection it names, and search finds the
// pages there; a search key gets a tool error saying an admin key is
// needed; bad arguments are tool errors naming them.
func TestCrawlTool(t *testing.T) {
	site := sitetest.Serve(t, sitetest.Lighthouses)
	for _, transport := range []string{"http", "stdio-data", "stdio-server"} {
		t.Run(transport, func(t *testing.T) {
			ts := startCollections(t, crawling(t))
			cs := keyedSessions(t, ts, adminKey)[transport]
			res := call(t, cs, "crawl", map[string]any{"seeds": []string{site + "/"}, "maxPages": 10, "collection": "other"})
			if res.IsError {
				t.Fatalf("crawl: %s", text(res))
			}
			out, _ := res.StructuredContent.(map[string]any)
			if out["indexed"] != float64(3) || out["stopReason"] != "frontier_empty" || !strings.Contains(text(res), "indexed 3") {
				t.Errorf("crawl: %v\n%s\nwant 3 pages indexed, frontier_empty", out, text(res))
			}
			if !regexp.MustCompile(`(skipped|errors) 1 \(\w+: 1\)`).MatchString(text(res)) {
				t.Errorf("crawl:\n%s\nwant the missing page counted with its reason", text(res))
			}
			found := text(call(t, cs, "search", map[string]any{"query": "lighthouse keeper", "type": "keyword", "collection": "other"}))
			if !strings.Contains(found, site+"/keeper") {
				t.Errorf("search in other after the crawl:\n%s\nwant %s/keeper", found, site)
			}
			if found := text(call(t, cs, "search", map[string]any{"query": "lighthouse keeper", "type": "keyword"})); strings.Contains(found, site) {
				t.Errorf("the crawl into other reached default:\n%s", found)
			}

			searcher := keyedSessions(t, ts, searchKey)[transport]
			res = call(t, searcher, "crawl", map[string]any{"seeds": []string{site + "/"}})
			if !res.IsError || !strings.Contains(text(res), "admin") {
				t.Errorf("crawl with a search key: isError %v, text %q; want an error saying an admin key is needed", res.IsError, text(res))
			}
			for field, args := range map[string]map[string]any{
				"seeds":                {"seeds": []string{}},
				"max_pages":            {"seeds": []string{site + "/"}, "maxPages": -3},
				"include_url_patterns": {"seeds": []string{site + "/"}, "includeUrlPatterns": []string{"("}},
				"nowhere":              {"seeds": []string{site + "/"}, "collection": "nowhere"},
				"allow_private":        {"seeds": []string{site + "/"}, "allowPrivate": true},
			} {
				res := call(t, cs, "crawl", args)
				if !res.IsError || !strings.Contains(text(res), field) {
					t.Errorf("crawl %v: isError %v, text %q; want an error naming %s", args, res.IsError, text(res), field)
				}
			}
		})
	}
}

// A server without crawling configured says so.
func TestCrawlToolNotConfigured(t *testing.T) {
	ts := startCollections(t, nil)
	cs := keyedSessions(t, ts, adminKey)["http"]
	res := call(t, cs, "crawl", map[string]any{"seeds": []string{"https://example.org/"}})
	if !res.IsError || !strings.Contains(text(res), "not configured") {
		t.Errorf("crawl on a server without crawling: isError %v, text %q; want an error saying so", res.IsError, text(res))
	}
}
