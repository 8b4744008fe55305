package exa_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cari-search/cari/server"
)

// liveSite is a site on loopback whose pages the tests change: body of a
// path is served as its page, status (when set) as its HTTP status.
type liveSite struct {
	*httptest.Server
	mu     sync.Mutex
	pages  map[string]string
	status map[string]int
	hits   map[string]*atomic.Int32
}

func newLiveSite(t *testing.T) *liveSite {
	s := &liveSite{pages: map[string]string{}, status: map[string]int{}, hits: map[string]*atomic.Int32{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		page, ok := s.pages[r.URL.Path]
		code := s.status[r.URL.Path]
		h := s.hits[r.URL.Path]
		if h == nil {
			h = &atomic.Int32{}
			s.hits[r.URL.Path] = h
		}
		s.mu.Unlock()
		h.Add(1)
		switch {
		case r.URL.Path == "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
		case r.URL.Path == "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		case code != 0:
			http.Error(w, "no", code)
		case !ok:
			http.NotFound(w, r)
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, page)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *liveSite) set(path, title, text string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[path] = fmt.Sprintf(`<html><head><title>%s</title></head><body><main><h1>%s</h1><p>%s</p></main></body></html>`, title, title, text)
	s.status[path] = status
}

func (s *liveSite) hitCount(path string) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.hits[path]; h != nil {
		return h.Load()
	}
	return 0
}

// startLiveServer runs a server whose Exa endpoints fetch live from
// loopback (and nothing else private).
func startLiveServer(t *testing.T) *testServer {
	return startServer(t, serverSetup{opts: func(o *server.Options) {
		o.LiveCrawl = server.LiveCrawlOptions{Enabled: true, AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, HostDelay: -1}
	}})
}

// contentsOf posts body to /contents and returns the results and statuses.
func contentsOf(t *testing.T, ts *testServer, body string) (results []map[string]any, statuses []map[string]any, warnings string) {
	t.Helper()
	code, m, _ := exaDo(t, ts, "/contents", body)
	if code != http.StatusOK {
		t.Fatalf("POST /contents %s: %d %v", body, code, m)
	}
	for _, s := range m["statuses"].([]any) {
		statuses = append(statuses, s.(map[string]any))
	}
	w, _ := json.Marshal(m["warnings"])
	return exaResults(t, m), statuses, string(w)
}

// statusError is a status's error as "TAG HTTP", or "" when it has none.
func statusError(s map[string]any) string {
	e, ok := s["error"].(map[string]any)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%v %v", e["tag"], e["httpStatusCode"])
}

func statusString(s map[string]any) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestExaLivecrawl(t *testing.T) {
	site := newLiveSite(t)
	ts := startLiveServer(t)
	page := site.URL + "/news"
	site.set("/news", "Harbour news", "The ferry to the island now leaves at dawn.", 0)

	// Not indexed: /contents fetches it (fallback is the default), indexes
	// it, and answers with it.
	rs, st, _ := contentsOf(t, ts, `{"urls":["`+page+`"],"text":true}`)
	if len(rs) != 1 || !strings.Contains(rs[0]["text"].(string), "leaves at dawn") || rs[0]["url"] != page {
		t.Fatalf("results %v, want the fetched page", rs)
	}
	if st[0]["id"] != page || st[0]["status"] != "success" || st[0]["source"] != "crawled" {
		t.Errorf("status %s, want success from a crawl", statusString(st[0]))
	}
	_, m, _ := exaDo(t, ts, "/search", `{"query":"ferry island dawn","type":"keyword"}`)
	if sr := exaResults(t, m); len(sr) == 0 || sr[0]["url"] != page {
		t.Errorf("search after the live fetch: %v, want the page indexed", sr)
	}

	// Indexed and fresh: served from the index unless asked otherwise.
	site.set("/news", "Harbour news", "The ferry now leaves at noon.", 0)
	for _, body := range []string{`{"urls":["` + page + `"]}`, `{"urls":["` + page + `"],"maxAgeHours":24}`, `{"urls":["` + page + `"],"livecrawl":"never"}`} {
		before := site.hitCount("/news")
		rs, st, _ = contentsOf(t, ts, body)
		if !strings.Contains(rs[0]["text"].(string), "dawn") || st[0]["source"] != "cached" || site.hitCount("/news") != before {
			t.Errorf("%s: %v %s, want the indexed copy and no fetch", body, rs, statusString(st[0]))
		}
	}
	// maxAgeHours 0 and livecrawl always fetch it again.
	for _, body := range []string{`{"urls":["` + page + `"],"maxAgeHours":0}`, `{"urls":["` + page + `"],"livecrawl":"always","text":{"maxCharacters":40}}`} {
		rs, st, _ = contentsOf(t, ts, body)
		if !strings.Contains(rs[0]["text"].(string), "noon") || st[0]["source"] != "crawled" {
			t.Errorf("%s: %v %s, want the fresh page", body, rs, statusString(st[0]))
		}
	}
	if txt := rs[0]["text"].(string); len(txt) > 40 {
		t.Errorf("text %q longer than maxCharacters 40", txt)
	}

	// The site fails: preferred keeps the copy (with a warning), always
	// reports the crawl's error.
	site.set("/news", "", "", http.StatusBadGateway)
	rs, st, w := contentsOf(t, ts, `{"urls":["`+page+`"],"livecrawl":"preferred"}`)
	if len(rs) != 1 || !strings.Contains(rs[0]["text"].(string), "noon") || st[0]["source"] != "cached" || !strings.Contains(w, "could not be fetched") {
		t.Errorf("preferred on a failing site: %v %s %s, want the copy and a warning", rs, statusString(st[0]), w)
	}
	rs, st, _ = contentsOf(t, ts, `{"urls":["`+page+`"],"livecrawl":"always"}`)
	if len(rs) != 0 || st[0]["status"] != "error" || statusError(st[0]) != "CRAWL_UNKNOWN_ERROR 502" {
		t.Errorf("always on a failing site: %v %s, want CRAWL_UNKNOWN_ERROR 502", rs, statusString(st[0]))
	}
}

func TestExaLivecrawlErrors(t *testing.T) {
	site := newLiveSite(t)
	ts := startLiveServer(t)
	site.set("/gated", "Members", "Members only.", http.StatusForbidden)
	for _, tc := range []struct{ path, body, want string }{
		{"/missing", `{}`, "CRAWL_NOT_FOUND 404"},
		{"/gated", `{}`, "SOURCE_NOT_AVAILABLE 403"},
		{"/private", `{}`, "SOURCE_NOT_AVAILABLE 403"},
		{"/slow", `{"livecrawlTimeout":150}`, "CRAWL_LIVECRAWL_TIMEOUT 504"},
	} {
		var opts map[string]any
		_ = json.Unmarshal([]byte(tc.body), &opts)
		opts["urls"] = []string{site.URL + tc.path}
		body, _ := json.Marshal(opts)
		rs, st, _ := contentsOf(t, ts, string(body))
		if len(rs) != 0 || len(st) != 1 || st[0]["id"] != site.URL+tc.path || statusError(st[0]) != tc.want {
			t.Errorf("%s: results %v status %s, want %s", tc.path, rs, statusString(st[0]), tc.want)
		}
	}
	// The server's own machine is off limits beyond the allowed network.
	rs, st, _ := contentsOf(t, ts, `{"urls":["http://169.254.169.254/latest/meta-data/"]}`)
	if len(rs) != 0 || !strings.Contains(statusString(st[0]), "SOURCE_NOT_AVAILABLE") {
		t.Errorf("cloud metadata address: %v %s, want SOURCE_NOT_AVAILABLE", rs, statusString(st[0]))
	}
	for _, tc := range []struct{ body, msg string }{
		{`{"urls":["x"],"livecrawl":"sometimes"}`, "livecrawl: must be never, fallback, preferred or always"},
		{`{"urls":["x"],"livecrawlTimeout":-5}`, "livecrawlTimeout: must be between"},
		{`{"urls":["x"],"maxAgeHours":-2}`, "maxAgeHours: must be -1"},
	} {
		code, m, _ := exaDo(t, ts, "/contents", tc.body)
		if msg, _ := m["error"].(string); code != 400 || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %d %v, want 400 saying %q", tc.body, code, m, tc.msg)
		}
	}
}

// TestExaLivecrawlSearch: a search's results are fetched again under
// livecrawl "always", keeping their order and scores.
func TestExaLivecrawlSearch(t *testing.T) {
	site := newLiveSite(t)
	ts := startLiveServer(t)
	page := site.URL + "/tides"
	site.set("/tides", "Tide tables", "Spring tides come twice a month.", 0)
	contentsOf(t, ts, `{"urls":["`+page+`"]}`)
	site.set("/tides", "Tide tables", "Spring tides come twice a month, with the new and the full moon.", 0)

	_, m, _ := exaDo(t, ts, "/search", `{"query":"spring tides","type":"keyword","contents":{"text":true,"highlights":true}}`)
	if rs := exaResults(t, m); len(rs) != 1 || strings.Contains(rs[0]["text"].(string), "full moon") {
		t.Fatalf("plain search: %v, want the indexed copy", rs)
	}
	_, m, _ = exaDo(t, ts, "/search", `{"query":"spring tides","type":"keyword","contents":{"text":true,"highlights":true,"livecrawl":"always"}}`)
	rs := exaResults(t, m)
	if len(rs) != 1 || !strings.Contains(rs[0]["text"].(string), "full moon") || rs[0]["score"] == nil || len(rs[0]["highlights"].([]any)) == 0 {
		t.Errorf("search with livecrawl always: %v, want the fresh page with its score and highlights", rs)
	}
}

// TestExaLivecrawlOff: a server that does not fetch live refuses
// livecrawl "always" and serves the copy for the modes that allow it.
func TestExaLivecrawlOff(t *testing.T) {
	ts := startServer(t, serverSetup{})
	code, m, _ := exaDo(t, ts, "/contents", `{"urls":["https://music.example.org/jazz"],"livecrawl":"always"}`)
	if msg, _ := m["error"].(string); code != 501 || m["tag"] != "NOT_IMPLEMENTED" || !strings.Contains(msg, "--livecrawl") {
		t.Errorf("always: %d %v, want 501 naming --livecrawl", code, m)
	}
	rs, st, w := contentsOf(t, ts, `{"urls":["https://music.example.org/jazz"],"maxAgeHours":1}`)
	if len(rs) != 1 || st[0]["source"] != "cached" || !strings.Contains(w, "does not fetch pages live") {
		t.Errorf("maxAgeHours without live fetches: %v %v %s, want the copy and a warning", rs, st, w)
	}
}

func TestExaExtrasAndSubpages(t *testing.T) {
	site := newLiveSite(t)
	ts := startLiveServer(t)
	site.mu.Lock()
	site.pages["/hub"] = `<html><head><title>Hub</title></head><body><main><p>The hub page of the harbour site, with its links.</p>
		<a href="/hub/about">About us</a> <a href="/hub/contact">Contact</a> <a href="/hub/sources">Sources</a>
		<a href="https://elsewhere.example/">elsewhere</a> <img src="/logo.png"> <img src="/map.png"></main></body></html>`
	site.mu.Unlock()
	site.set("/hub/about", "About the harbour", "The harbour has served fishermen since 1820.", 0)
	site.set("/hub/contact", "Contact", "Write to the harbour master.", 0)
	site.set("/hub/sources", "Sources and references", "Our figures come from the port authority's annual report.", 0)

	rs, st, _ := contentsOf(t, ts, `{"urls":["`+site.URL+`/hub"],"text":true,"extras":{"links":2,"imageLinks":1},"subpages":2,"subpageTarget":["sources"]}`)
	if len(rs) != 1 || st[0]["source"] != "crawled" {
		t.Fatalf("results %v statuses %v, want the hub fetched", rs, st)
	}
	extras, _ := rs[0]["extras"].(map[string]any)
	links, _ := json.Marshal(extras)
	if want := fmt.Sprintf(`{"imageLinks":["%[1]s/logo.png"],"links":["%[1]s/hub/about","%[1]s/hub/contact"]}`, site.URL); string(links) != want {
		t.Errorf("extras %s, want %s", links, want)
	}
	subs, _ := rs[0]["subpages"].([]any)
	if len(subs) != 2 {
		t.Fatalf("subpages %v, want 2", subs)
	}
	first := subs[0].(map[string]any)
	if first["url"] != site.URL+"/hub/sources" || !strings.Contains(first["text"].(string), "port authority") {
		t.Errorf("first subpage %v, want /hub/sources (the target) with its text", first)
	}
	if second := subs[1].(map[string]any); second["url"] != site.URL+"/hub/about" {
		t.Errorf("second subpage %v, want /hub/about (the first link of the rest)", second)
	}
	// The subpages fetched are indexed now.
	_, m, _ := exaDo(t, ts, "/search", `{"query":"port authority annual report","type":"keyword"}`)
	if sr := exaResults(t, m); len(sr) == 0 || sr[0]["url"] != site.URL+"/hub/sources" {
		t.Errorf("search for a subpage: %v, want it indexed", sr)
	}

	_, m, _ = exaDo(t, ts, "/search", `{"query":"hub page harbour links","type":"keyword","numResults":1,"contents":{"extras":{"imageLinks":5}}}`)
	if sr := exaResults(t, m); len(sr) != 1 || fmt.Sprint(sr[0]["extras"]) != fmt.Sprintf("map[imageLinks:[%[1]s/logo.png %[1]s/map.png] links:[]]", site.URL) {
		t.Errorf("search with extras: %v, want the hub's two images", sr)
	}

	for _, tc := range []struct {
		body string
		code int
		msg  string
	}{
		{`{"urls":["` + site.URL + `/hub"],"extras":{"links":1},"livecrawl":"never"}`, 400, `extras: Cari's index keeps no links`},
		{`{"urls":["` + site.URL + `/hub"],"subpages":-1}`, 400, "subpages: must be 0 or more"},
		{`{"urls":["` + site.URL + `/hub"],"extras":{"links":5000}}`, 400, "extras: links and imageLinks must be between 0 and 1000"},
		{`{"urls":["` + site.URL + `/hub"],"subpageTarget":5}`, 400, "subpageTarget: must be a string or an array"},
	} {
		code, m, _ := exaDo(t, ts, "/contents", tc.body)
		if msg, _ := m["error"].(string); code != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %d %v, want %d saying %q", tc.body, code, m, tc.code, tc.msg)
		}
	}

	off := startServer(t, serverSetup{})
	code, m, _ := exaDo(t, off, "/search", `{"query":"jazz","contents":{"extras":{"links":1}}}`)
	if msg, _ := m["error"].(string); code != 501 || !strings.Contains(msg, "--livecrawl") {
		t.Errorf("extras without live fetches: %d %v, want 501 naming --livecrawl", code, m)
	}
}

func TestExaTextView(t *testing.T) {
	site := newLiveSite(t)
	ts := startLiveServer(t)
	site.mu.Lock()
	site.pages["/guide"] = `<html><head><title>Guide</title></head><body><nav><a href="/">Home</a> <a href="/map">Map</a></nav>
		<main><h1>Walking guide</h1><p>The cliff path starts behind the lighthouse and ends at the old quarry.</p></main>
		<footer>Harbour Trust 2026</footer></body></html>`
	site.mu.Unlock()
	u := site.URL + "/guide"
	contentsOf(t, ts, `{"urls":["`+u+`"]}`) // indexed

	for _, tc := range []struct {
		text      string
		want, not []string
	}{
		{`{"includeSections":["navigation"]}`, []string{"Home Map"}, []string{"cliff path", "Harbour Trust"}},
		{`{"verbosity":"full"}`, []string{"Home Map", "cliff path", "Harbour Trust 2026"}, nil},
		{`{"excludeSections":["body"],"verbosity":"full"}`, []string{"Home Map", "Harbour Trust"}, []string{"cliff path"}},
		{`{"includeHtmlTags":true}`, []string{"<main><h1>Walking guide</h1>"}, []string{"<nav>"}},
		{`{"verbosity":"full","maxCharacters":12}`, []string{"title: Guide"}, []string{"Home"}},
	} {
		rs, st, _ := contentsOf(t, ts, `{"urls":["`+u+`"],"text":`+tc.text+`}`)
		if len(rs) != 1 || st[0]["source"] != "crawled" {
			t.Errorf("%s: %v %v, want the page fetched", tc.text, rs, st)
			continue
		}
		txt := rs[0]["text"].(string)
		for _, w := range tc.want {
			if !strings.Contains(txt, w) {
				t.Errorf("%s: text %q lacks %q", tc.text, txt, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(txt, n) {
				t.Errorf("%s: text %q holds %q", tc.text, txt, n)
			}
		}
	}
	// The main text needs no fetch: includeSections ["body"] is what the
	// index holds.
	before := site.hitCount("/guide")
	if rs, st, _ := contentsOf(t, ts, `{"urls":["`+u+`"],"text":{"includeSections":["body"],"verbosity":"compact"}}`); len(rs) != 1 || st[0]["source"] != "cached" || site.hitCount("/guide") != before {
		t.Errorf("body only: %v %v, want the indexed text and no fetch", rs, st)
	}

	for _, tc := range []struct{ body, msg string }{
		{`{"urls":["` + u + `"],"text":{"includeSections":["unspecified"]}}`, `contents.text.includeSections: Cari cannot tell "unspecified"`},
		{`{"urls":["` + u + `"],"text":{"excludeSections":["sidebars"]}}`, `contents.text.excludeSections: "sidebars" is not a section`},
		{`{"urls":["` + u + `"],"text":{"verbosity":"chatty"}}`, "contents.text.verbosity: must be compact, standard or full"},
		{`{"urls":["` + u + `"],"text":{"includeSections":["footer"],"excludeSections":["footer"]}}`, "leave no section"},
		{`{"urls":["` + u + `"],"text":{"includeHtmlTags":true},"livecrawl":"never"}`, `contents.text.includeHtmlTags: Cari's index keeps a page's main text only`},
	} {
		code, m, _ := exaDo(t, ts, "/contents", tc.body)
		if msg, _ := m["error"].(string); code != 400 || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %d %v, want 400 saying %q", tc.body, code, m, tc.msg)
		}
	}
	off := startServer(t, serverSetup{})
	code, m, _ := exaDo(t, off, "/contents", `{"ids":["jazz"],"text":{"verbosity":"full"}}`)
	if msg, _ := m["error"].(string); code != 501 || !strings.Contains(msg, "contents.text.verbosity") {
		t.Errorf("verbosity without live fetches: %d %v, want 501 naming the field", code, m)
	}
}

// TestExaCategory: category keeps the results the classifier filed under
// it when the live fetch indexed them, however the search ranks the others.
func TestExaCategory(t *testing.T) {
	site := newLiveSite(t)
	ts := startLiveServer(t)
	site.set("/2024/05/01/storm", "Storm closes the harbour", "The harbour closed on Tuesday as the storm arrived, officials said on Wednesday, according to the port.", 0)
	site.set("/people/ada", "Ada Marlow, harbour master", "Ada Marlow (born 1961) was born in the harbour town. Her career at the harbour began in 1985.", 0)
	contentsOf(t, ts, `{"urls":["`+site.URL+`/2024/05/01/storm","`+site.URL+`/people/ada"]}`)

	for _, tc := range []struct{ category, want string }{{"news", "/2024/05/01/storm"}, {"people", "/people/ada"}, {"linkedin profile", "/people/ada"}} {
		_, m, _ := exaDo(t, ts, "/search", `{"query":"harbour","type":"keyword","numResults":1,"category":"`+tc.category+`"}`)
		rs := exaResults(t, m)
		if len(rs) != 1 || rs[0]["url"] != site.URL+tc.want || rs[0]["text"] != nil {
			t.Errorf("category %s: %v, want %s alone, without text", tc.category, rs, tc.want)
		}
	}
	_, m, _ := exaDo(t, ts, "/search", `{"query":"harbour","type":"keyword","category":"github"}`)
	if rs := exaResults(t, m); len(rs) != 0 {
		t.Errorf("category github: %v, want none", rs)
	}
	code, m, _ := exaDo(t, ts, "/search", `{"query":"harbour","category":"blog"}`)
	if msg, _ := m["error"].(string); code != 400 || !strings.Contains(msg, "category: must be one of company, research paper") {
		t.Errorf("unknown category: %d %v", code, m)
	}
}

// TestExaLiveResponsesMatchSpec validates what live fetches add to the
// responses (statuses with error tags, extras, subpages, the text forms,
// category) against Exa's published schemas, as TestExaResponsesMatchSpec
// does for the rest.
func TestExaLiveResponsesMatchSpec(t *testing.T) {
	spec := loadSpec(t)
	site := newLiveSite(t)
	ts := startLiveServer(t)
	site.mu.Lock()
	site.pages["/hub"] = `<html><head><title>Hub</title></head><body><nav><a href="/">Home</a></nav><main><p>The harbour hub, with news of the ferries.</p>
		<a href="/hub/about">About</a> <a href="/hub/sources">Sources</a><img src="/logo.png"></main><footer>Trust</footer></body></html>`
	site.mu.Unlock()
	site.set("/hub/about", "About", "The harbour trust runs the ferries.", 0)
	site.set("/hub/sources", "Sources", "Figures from the port authority.", 0)
	site.set("/gone", "", "", http.StatusGone)
	u := site.URL
	for _, tc := range []struct{ path, body string }{
		{"/contents", `{"urls":["` + u + `/hub","` + u + `/gone","` + u + `/private","` + u + `/slow"],"livecrawlTimeout":300,"text":true}`},
		{"/contents", `{"urls":["` + u + `/hub"],"livecrawl":"always","extras":{"links":2,"imageLinks":2},"subpages":2,"subpageTarget":"sources","text":{"maxCharacters":100}}`},
		{"/contents", `{"urls":["` + u + `/hub"],"maxAgeHours":0,"text":{"verbosity":"full","includeHtmlTags":true}}`},
		{"/search", `{"query":"harbour ferries","type":"keyword","contents":{"text":true,"highlights":true,"livecrawl":"always","extras":{"links":1},"subpages":1}}`},
		{"/search", `{"query":"harbour","type":"keyword","category":"news","contents":{"text":true}}`},
		{"/findSimilar", `{"url":"` + u + `/hub","contents":{"text":true,"livecrawl":"preferred"}}`},
	} {
		r := ts.do(t, "POST", tc.path, tc.body)
		if r.code != http.StatusOK {
			t.Errorf("%s %s: %d %s", tc.path, tc.body, r.code, r.body)
			continue
		}
		schemaErrs, rangeErrs := specErrors(spec, tc.path, r)
		for _, err := range append(schemaErrs, rangeErrs...) {
			t.Errorf("%s %s: %v", tc.path, tc.body, err)
		}
	}
}
