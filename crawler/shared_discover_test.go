package crawler

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cari-search/cari/internal/redistest"
)

// canonSite has pairs of pages (/x/I, /y/I) that both name an unlinked
// /t/I as canonical, and pages (/s/I) that only a sitemap lists, through a
// sitemap index that robots.txt names. It counts requests by path.
type canonSite struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

const canonPairs, sitemapPages = 8, 5

func newCanonSite(t *testing.T) *canonSite {
	s := &canonSite{hits: make(map[string]int)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		var i int
		switch p := r.URL.Path; {
		case p == "/robots.txt":
			fmt.Fprintf(w, "User-agent: *\nAllow: /\nSitemap: %s/sm-index.xml\n", s.srv.URL)
		case p == "/sm-index.xml":
			fmt.Fprintf(w, `<?xml version="1.0"?><sitemapindex><sitemap><loc>%s/sm-pages.xml</loc></sitemap></sitemapindex>`, s.srv.URL)
		case p == "/sm-pages.xml":
			var b strings.Builder
			for i := range sitemapPages {
				fmt.Fprintf(&b, "<url><loc>%s/s/%d</loc></url>", s.srv.URL, i)
			}
			fmt.Fprintf(w, `<?xml version="1.0"?><urlset>%s</urlset>`, b.String())
		case p == "/":
			var links []string
			for i := range canonPairs {
				links = append(links, fmt.Sprintf("/x/%d", i), fmt.Sprintf("/y/%d", i))
			}
			fmt.Fprint(w, page("Home", "", para(1, 80), links...))
		case sscan(p, "/x/%d", &i), sscan(p, "/y/%d", &i):
			head := fmt.Sprintf(`<link rel="canonical" href="/t/%d">`, i)
			fmt.Fprint(w, page("Alias "+p, head, para(uint64(1000+len(p)*100+i), 120)))
		case sscan(p, "/t/%d", &i):
			fmt.Fprint(w, page(fmt.Sprintf("Target %d", i), "", para(uint64(3000+i), 120)))
		case sscan(p, "/s/%d", &i):
			fmt.Fprint(w, page(fmt.Sprintf("Listed %d", i), "", para(uint64(4000+i), 120)))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func sscan(s, format string, i *int) bool {
	_, err := fmt.Sscanf(s, format, i)
	return err == nil
}

// TestSharedCrawlSitemapsAndCanonicalAcrossWorkers runs two workers on
// the canonical site: the sitemap index and its sitemap are read once for
// both, the pages only they list are fetched once and indexed, and of
// each pair of pages naming one unseen canonical target exactly one is
// skipped for it (the other finds it seen and is indexed under its own
// URL), the target fetched once, whichever worker fetched what.
func TestSharedCrawlSitemapsAndCanonicalAcrossWorkers(t *testing.T) {
	rd := redistest.Start(t, false)
	s := newCanonSite(t)
	o := Options{Seeds: []string{s.srv.URL + "/"}, MaxDepth: 5, Concurrency: 4}
	loopbackOnly(t, &o)
	sink := &memSink{}
	runWorkers(t, t.Context(), sharedWorker(t, rd.URL(0), "canon", sink, o, SharedOptions{}), sharedWorker(t, rd.URL(0), "canon", sink, o, SharedOptions{}))
	s.mu.Lock()
	for p, n := range s.hits {
		if n != 1 {
			t.Errorf("%s asked %d times, want once", p, n)
		}
	}
	if len(s.hits) != 4+3*canonPairs+sitemapPages { // robots.txt, 2 sitemaps, home, aliases, targets, listed pages
		t.Errorf("%d paths asked for, want %d: %v", len(s.hits), 4+3*canonPairs+sitemapPages, s.hits)
	}
	s.mu.Unlock()
	for i := range canonPairs {
		_, x := sink.byURL(fmt.Sprintf("%s/x/%d", s.srv.URL, i))
		_, y := sink.byURL(fmt.Sprintf("%s/y/%d", s.srv.URL, i))
		_, tgt := sink.byURL(fmt.Sprintf("%s/t/%d", s.srv.URL, i))
		if x == y || !tgt {
			t.Errorf("pair %d: /x indexed %v, /y %v, /t %v; want one alias and the target", i, x, y, tgt)
		}
	}
	for i := range sitemapPages {
		if _, ok := sink.byURL(fmt.Sprintf("%s/s/%d", s.srv.URL, i)); !ok {
			t.Errorf("/s/%d, listed by the sitemap only, not indexed", i)
		}
	}
	f, _ := OpenShared(rd.URL(0), "canon")
	defer f.Close()
	st, err := f.Status(t.Context())
	if err != nil || st.Skipped["canonical"] != canonPairs || st.Indexed != int64(1+2*canonPairs+sitemapPages) {
		t.Errorf("status %+v, %v; want %d canonical skips, %d indexed", st, err, canonPairs, 1+2*canonPairs+sitemapPages)
	}
}
