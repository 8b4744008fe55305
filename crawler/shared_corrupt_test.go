package crawler

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestSharedCrawlCompletesCorruptEntries puts entries no worker can read
// into a job's queues (not JSON, JSON without a URL, JSON that Lua reads
// but Go does not, a retry without its host): each is completed as failed
// ("corrupt_entry") and kept aside for the operator, and the job goes on
// to its end, rather than every worker aborting on it or its lease
// expiring and the entry coming back for ever.
func TestSharedCrawlCompletesCorruptEntries(t *testing.T) {
	const n, ttl = 5, 300 * time.Millisecond
	s, sink, w := seededWorker(t, "corrupt", n, ttl)
	f := w.shared.f
	host := hostOf(s.srv.URL)
	bad := []string{`not json`, `{"depth": 1}`, `{"url": "` + s.srv.URL + `/p/999", "depth": "deep"}`}
	pipe := f.rdb.TxPipeline()
	for _, e := range bad {
		pipe.RPush(t.Context(), f.key("q:"+host), e)
	}
	pipe.ZAdd(t.Context(), f.key("delayed"), redis.Z{Score: 0, Member: "a retry without its host"})
	pipe.HIncrBy(t.Context(), f.key("stats"), "queued", int64(len(bad)+1))
	if _, err := pipe.Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	p, err := w.Run(ctx)
	if err != nil || !p.Done {
		t.Fatalf("worker ended with %v, %+v; want the job done, the corrupt entries completed", err, p)
	}
	wantEachPageOnce(t, s, sink, n)
	st, err := f.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Errors["corrupt_entry"] != 4 || st.Failed != 4 || st.Corrupt != 4 || st.Queued != 0 || st.Leased != 0 || st.Requeued != 0 {
		t.Errorf("status %+v; want 4 failed as corrupt_entry, 4 kept aside, nothing queued, leased or requeued", st)
	}
	kept, err := f.rdb.LRange(t.Context(), f.key("corrupt"), 0, -1).Result()
	if err != nil || len(kept) != 4 {
		t.Errorf("corrupt entries kept: %q, %v; want the 4", kept, err)
	}
	var text strings.Builder
	if err := f.Command(t.Context(), "status", &text, false); err != nil ||
		!strings.Contains(text.String(), "errors corrupt_entry=4\n") || !strings.Contains(text.String(), "corrupt entries set aside: 4 (kept in the Redis list cari:crawl:{corrupt}:corrupt)") {
		t.Errorf("cari crawl status says %q (%v); want the 4 corrupt entries counted and where they are kept", text.String(), err)
	}
}
