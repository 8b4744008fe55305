package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNoJob is returned for a crawl job that Redis does not hold.
var ErrNoJob = errors.New("no such crawl job")

// JobStatus is a shared crawl job's state, as cari crawl status prints it.
type JobStatus struct {
	Job string `json:"job"`
	// State is "running" or "stopped".
	State string `json:"state"`
	// Pass is the recrawl pass the counts are of: 1 for the job's first.
	Pass int64 `json:"pass"`
	// Done is true when the pass has no URL queued or leased.
	Done bool `json:"done"`
	// Queued URLs wait (retries and pages due in this pass included);
	// Leased are being fetched.
	Queued  int64 `json:"queued"`
	Leased  int64 `json:"leased"`
	Fetched int64 `json:"fetched"`
	Indexed int64 `json:"indexed"`
	// Failed is the sum of Errors.
	Failed       int64            `json:"failed"`
	Skipped      map[string]int64 `json:"skipped,omitempty"`
	Errors       map[string]int64 `json:"errors,omitempty"`
	Retries      int64            `json:"retries"`
	BytesFetched int64            `json:"bytes_fetched"`
	Hosts        int64            `json:"hosts"`
	// Requeued counts leases that expired (their worker died or stalled)
	// and went back to the queue.
	Requeued int64 `json:"requeued"`
	MaxPages int64 `json:"max_pages"`
	// WorkersAlive are the workers whose heartbeat is younger than
	// DefaultLeaseTTL.
	WorkersAlive int64 `json:"workers_alive"`
	// RecrawlScheduled pages wait for a later pass, RecrawlDue of them are
	// due by now: a worker started once this pass is done recrawls them.
	RecrawlScheduled int64 `json:"recrawl_scheduled"`
	RecrawlDue       int64 `json:"recrawl_due"`
	// Corrupt counts the entries no worker could read, kept aside in the
	// job's corrupt list (each also counted once as a corrupt_entry error).
	Corrupt int64 `json:"corrupt_entries"`
	// Backlog is the queue length of the hosts with most queued URLs (at
	// most 20), largest first.
	Backlog []HostBacklog `json:"backlog,omitempty"`
}

// HostBacklog is one host's queue length.
type HostBacklog struct {
	Host   string `json:"host"`
	Queued int64  `json:"queued"`
}

// Status reads the job's state; ErrNoJob when Redis holds no such job.
func (f *SharedFrontier) Status(ctx context.Context) (JobStatus, error) {
	st := JobStatus{Job: f.job}
	now := time.Now()
	pipe := f.rdb.Pipeline()
	meta := pipe.HGetAll(ctx, f.key("meta"))
	stats := pipe.HGetAll(ctx, f.key("stats"))
	leased := pipe.ZCard(ctx, f.key("leases"))
	alive := pipe.ZCount(ctx, f.key("workers"), strconv.FormatInt(now.Add(-DefaultLeaseTTL).UnixMilli(), 10), "+inf")
	hosts := pipe.ZRange(ctx, f.key("hosts"), 0, 999)
	corrupt := pipe.LLen(ctx, f.key("corrupt"))
	if _, err := pipe.Exec(ctx); err != nil {
		return st, err
	}
	if len(meta.Val()) == 0 {
		return st, fmt.Errorf("crawl job %s: %w", f.job, ErrNoJob)
	}
	st.State = meta.Val()["state"]
	st.MaxPages, _ = strconv.ParseInt(meta.Val()["max_pages"], 10, 64)
	st.Pass = 1
	if n, err := strconv.ParseInt(meta.Val()["pass"], 10, 64); err == nil {
		st.Pass = n
	}
	st.Leased, st.WorkersAlive, st.Corrupt = leased.Val(), alive.Val(), corrupt.Val()
	st.Skipped, st.Errors = map[string]int64{}, map[string]int64{}
	for k, v := range stats.Val() {
		n, _ := strconv.ParseInt(v, 10, 64)
		switch {
		case strings.HasPrefix(k, "skipped:"):
			if n != 0 {
				st.Skipped[strings.TrimPrefix(k, "skipped:")] = n
			}
		case strings.HasPrefix(k, "errors:"):
			st.Errors[strings.TrimPrefix(k, "errors:")] = n
			st.Failed += n
		}
	}
	for field, dst := range map[string]*int64{"queued": &st.Queued, "fetched": &st.Fetched, "indexed": &st.Indexed,
		"retries": &st.Retries, "bytes": &st.BytesFetched, "hosts": &st.Hosts, "requeued": &st.Requeued} {
		*dst, _ = strconv.ParseInt(stats.Val()[field], 10, 64)
	}
	if err := f.recrawlCounts(ctx, &st, meta.Val()["cutoff"], now); err != nil {
		return st, err
	}
	st.Done = st.Leased == 0 && (st.Queued == 0 || st.Fetched >= st.MaxPages)
	if err := f.backlog(ctx, &st, hosts.Val()); err != nil {
		return st, err
	}
	return st, nil
}

// recrawlCounts adds the pages due in the current pass (not yet in their
// hosts' queues) to Queued, and counts those that wait for a later one.
func (f *SharedFrontier) recrawlCounts(ctx context.Context, st *JobStatus, cutoff string, now time.Time) error {
	if cutoff == "" {
		cutoff = "-1"
	}
	pipe := f.rdb.Pipeline()
	pending := pipe.ZCount(ctx, f.key("due"), "-inf", cutoff)
	later := pipe.ZCount(ctx, f.key("due"), "("+cutoff, "+inf")
	dueNow := pipe.ZCount(ctx, f.key("due"), "("+cutoff, strconv.FormatInt(now.UnixMilli(), 10))
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	st.Queued += pending.Val()
	st.RecrawlScheduled, st.RecrawlDue = later.Val(), dueNow.Val()
	return nil
}

func (f *SharedFrontier) backlog(ctx context.Context, st *JobStatus, hosts []string) error {
	if len(hosts) == 0 {
		return nil
	}
	pipe := f.rdb.Pipeline()
	lens := make([]*redis.IntCmd, len(hosts))
	for i, h := range hosts {
		lens[i] = pipe.LLen(ctx, f.key("q:"+h))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	for i, h := range hosts {
		if n := lens[i].Val(); n > 0 {
			st.Backlog = append(st.Backlog, HostBacklog{Host: h, Queued: n})
		}
	}
	slices.SortFunc(st.Backlog, func(a, b HostBacklog) int { return int(b.Queued - a.Queued) })
	st.Backlog = st.Backlog[:min(len(st.Backlog), 20)]
	return nil
}

// Stop marks the job stopped: its workers lease nothing more, commit what
// they fetched, give back their leases and exit. Resume undoes it.
func (f *SharedFrontier) Stop(ctx context.Context) error { return f.setState(ctx, "stopped") }

// Resume marks a stopped job running again, for the workers started
// next.
func (f *SharedFrontier) Resume(ctx context.Context) error { return f.setState(ctx, "running") }

func (f *SharedFrontier) setState(ctx context.Context, state string) error {
	n, err := f.rdb.Exists(ctx, f.key("meta")).Result()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("crawl job %s: %w", f.job, ErrNoJob)
	}
	return f.rdb.HSet(ctx, f.key("meta"), "state", state).Err()
}

// requeue gives back every lease a worker holds.
func (f *SharedFrontier) requeue(ctx context.Context, worker string) error {
	return requeueScript.Run(ctx, f.rdb, nil, f.prefix, nowMS(), worker).Err()
}

// requeueExpired puts the pages of expired leases back in the queue and
// says how many leases there were.
func (f *SharedFrontier) requeueExpired(ctx context.Context) (int64, error) {
	return requeueScript.Run(ctx, f.rdb, nil, f.prefix, nowMS(), "").Int64()
}

// WriteText prints the status for a terminal.
func (st JobStatus) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "job %s: %s, pass %d", st.Job, st.State, st.Pass)
	if st.Done {
		b.WriteString(", done (no URL queued or leased)")
	}
	fmt.Fprintf(&b, "\nqueued %d, leased %d, fetched %d of at most %d, indexed %d, failed %d, retries %d, requeued %d\n",
		st.Queued, st.Leased, st.Fetched, st.MaxPages, st.Indexed, st.Failed, st.Retries, st.Requeued)
	fmt.Fprintf(&b, "hosts %d, bytes %d, workers alive %d\n", st.Hosts, st.BytesFetched, st.WorkersAlive)
	if st.RecrawlScheduled > 0 {
		fmt.Fprintf(&b, "recrawl: %d pages scheduled, %d of them due (a worker started once this pass is done recrawls them)\n",
			st.RecrawlScheduled, st.RecrawlDue)
	}
	if st.Corrupt > 0 {
		fmt.Fprintf(&b, "corrupt entries set aside: %d (kept in the Redis list %scorrupt)\n", st.Corrupt, jobPrefix(st.Job))
	}
	writeCounts(&b, "skipped", st.Skipped)
	writeCounts(&b, "errors", st.Errors)
	for _, h := range st.Backlog {
		fmt.Fprintf(&b, "  backlog %s %d\n", h.Host, h.Queued)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCounts(b *strings.Builder, name string, m map[string]int64) {
	if len(m) == 0 {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.WriteString(name)
	for _, k := range keys {
		fmt.Fprintf(b, " %s=%d", k, m[k])
	}
	b.WriteString("\n")
}

// WriteJSON prints the status as one JSON object.
func (st JobStatus) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(st)
}

// Command runs cari crawl's job command verb ("status", "stop" or
// "resume") and prints what it has to say to w.
func (f *SharedFrontier) Command(ctx context.Context, verb string, w io.Writer, asJSON bool) error {
	switch verb {
	case "stop":
		return f.Stop(ctx)
	case "resume":
		return f.Resume(ctx)
	case "status":
		st, err := f.Status(ctx)
		switch {
		case err != nil:
			return err
		case asJSON:
			return st.WriteJSON(w)
		}
		return st.WriteText(w)
	}
	return fmt.Errorf("unknown crawl job command %q (status, stop, resume)", verb)
}
