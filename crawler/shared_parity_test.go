package crawler

import (
	"maps"
	"testing"

	"github.com/cari-search/cari/internal/redistest"
)

// TestSharedCrawlMatchesLocalCrawl crawls the test site once locally and
// once as a shared job (one worker, so that which of two near duplicates
// comes first is as in the local crawl): the same requests reach the
// server (robots.txt, the sitemap, each page, retries), the same pages are
// indexed (the sitemap-only page and the rel="canonical" target among
// them, the alias skipped for it), and every skip and error is counted
// alike.
func TestSharedCrawlMatchesLocalCrawl(t *testing.T) {
	rd := redistest.Start(t, false)
	local, shared := newTestSite(t), newTestSite(t)
	lsink, ssink := &memSink{}, &memSink{}
	lp := crawl(t, t.TempDir(), lsink, quickSiteOptions(t, local))
	sp := runWorkers(t, t.Context(), sharedWorker(t, rd.URL(0), "site", ssink, quickSiteOptions(t, shared), SharedOptions{}))[0]
	if l, s := paths(local, lsink), paths(shared, ssink); !maps.Equal(l, s) {
		t.Errorf("indexed\nlocally %v\nshared  %v", l, s)
	}
	if l, s := local.allHits(), shared.allHits(); !maps.Equal(l, s) {
		t.Errorf("requests\nlocally %v\nshared  %v", l, s)
	}
	if !maps.Equal(lp.Skipped, sp.Skipped) || !maps.Equal(lp.Errors, sp.Errors) {
		t.Errorf("skipped %v, errors %v locally; shared %v, %v", lp.Skipped, lp.Errors, sp.Skipped, sp.Errors)
	}
	if lp.Fetched != sp.Fetched || lp.Indexed != sp.Indexed || lp.Retries != sp.Retries || !sp.Done {
		t.Errorf("fetched, indexed, retries: %d, %d, %d locally; shared %d, %d, %d (done %v)",
			lp.Fetched, lp.Indexed, lp.Retries, sp.Fetched, sp.Indexed, sp.Retries, sp.Done)
	}
	if _, ok := ssink.byURL(shared.url("/orphan")); !ok || sp.Skipped["canonical"] != 1 {
		t.Errorf("shared crawl: sitemap-only page indexed %v, canonical skips %d; want true, 1", ok, sp.Skipped["canonical"])
	}
}
