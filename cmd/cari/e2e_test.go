package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/searcher"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// The end-to-end test runs the real cari binary on the fixture collection in
// testdata/e2e: 30 documents on unrelated topics plus two malformed lines
// (line 11 is not JSON, line 22 has no _id), 5 queries and their qrels.
const (
	fixtureDocs     = 30
	fixtureBadLines = 2
)

var fixtureBadLineNumbers = []int{11, 22}

// fixtureMaxMalformed is the --max-malformed that indexing the fixture
// takes: its malformed lines are 2 of 32, more than the default allows.
const fixtureMaxMalformed = "0.1"

// binDir holds the binary built for this test run; TestMain removes it.
var binDir string

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cari-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	return m.Run()
}

// cariBinary builds ./cmd/cari once per test run, with the race detector
// when the test itself has it, so that the server's races fail the test too.
// Under -short it skips the test: linking the binary alone takes longer than
// a short test may, and the tests of the real binary are end-to-end tests
// that run without -short.
func cariBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real cari binary: long; runs without -short")
	}
	buildOnce.Do(func() {
		binPath = filepath.Join(binDir, "cari")
		args := []string{"build", "-o", binPath}
		if raceEnabled() {
			args = append(args, "-race")
		}
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard(t, 5*time.Minute))
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// cariEnv is the environment of cari processes. A race-enabled binary
// otherwise sleeps a second at exit, which would make this test slow.
func cariEnv() []string {
	return append(os.Environ(), "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=100")
}

// hangGuard turns a command's expected duration into its timeout. The
// timeout only guards against a hang, so it never fires before the test
// binary's own deadline (go test -timeout) is near: on a loaded machine a
// command may take many times its usual duration and still be correct.
func hangGuard(tb testing.TB, expected time.Duration) time.Duration {
	withDeadline, ok := tb.(interface{ Deadline() (time.Time, bool) })
	if !ok {
		return expected
	}
	deadline, ok := withDeadline.Deadline()
	if !ok {
		return expected
	}
	// Leave time to report the hang and clean up before go test's alarm.
	return max(expected, time.Until(deadline)-30*time.Second)
}

func fixture(name string) string { return filepath.Join("testdata", "e2e", name) }

// runCari runs one cari command to completion.
func runCari(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return runCariWithin(t, 30*time.Second, args...)
}

// runCariWithin is runCari for a command that may take up to timeout.
func runCariWithin(t *testing.T, timeout time.Duration, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	// The binary first: building it may take longer than the command may.
	bin := cariBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, timeout))
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = cariEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// mustCari runs a cari command that must succeed and returns its stdout and stderr.
func mustCari(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, err := runCari(t, args...)
	if err != nil {
		t.Fatalf("cari %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr)
	}
	return stdout, stderr
}

// stats runs cari stats --json on dir.
func stats(t *testing.T, dir string) (documents, chunks int64) {
	t.Helper()
	out, _ := mustCari(t, "stats", "--data", dir, "--json")
	var st struct{ Documents, Chunks int64 }
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("stats --json printed %q: %v", out, err)
	}
	return st.Documents, st.Chunks
}

func TestEndToEnd(t *testing.T) {
	data := t.TempDir()
	cariBinary(t)

	if !t.Run("index", func(t *testing.T) { testIndexCommand(t, data) }) {
		t.FailNow()
	}
	t.Run("eval", func(t *testing.T) { testEvalCommand(t, data) })

	srv := startServe(t, data)
	conn, err := grpc.NewClient(srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })

	t.Run("health and reflection", func(t *testing.T) { testHealthAndReflection(t, conn) })
	t.Run("search", func(t *testing.T) { testSearch(t, conn) })
	t.Run("index service", func(t *testing.T) { testIndexService(t, conn) })
	t.Run("search command", func(t *testing.T) { testSearchCommand(t, srv.addr) })
	t.Run("shutdown", func(t *testing.T) { testShutdown(t, srv, data) })
}

func testIndexCommand(t *testing.T, data string) {
	out, errOut := mustCari(t, "index", "--data", data, "--corpus", fixture("corpus.jsonl"), "--max-malformed", fixtureMaxMalformed)
	want := fmt.Sprintf("indexed %d documents from", fixtureDocs)
	if !strings.HasPrefix(out, want) || !strings.Contains(out, fmt.Sprintf("skipped %d malformed lines", fixtureBadLines)) {
		t.Errorf("index printed %q, want %q... skipped %d malformed lines", out, want, fixtureBadLines)
	}
	for _, n := range fixtureBadLineNumbers {
		if !regexp.MustCompile(fmt.Sprintf(`level=WARN .*malformed.* line=%d\b`, n)).MatchString(errOut) {
			t.Errorf("stderr has no warning for malformed line %d:\n%s", n, errOut)
		}
	}
	// Without Debian's hunspell-id, Indonesian goes unstemmed: index says
	// so at start-up (on a machine with it, it says nothing).
	if w := analysis.IndonesianStemmingWarning(); (w != "") != strings.Contains(errOut, "Indonesian is analysed without stemming") {
		t.Errorf("stemming warning %q, stderr:\n%s", w, errOut)
	}
	if docs, chunks := stats(t, data); docs != fixtureDocs || chunks != fixtureDocs {
		t.Errorf("stats: documents=%d chunks=%d, want %d and %d", docs, chunks, fixtureDocs, fixtureDocs)
	}
	t.Run("exit status", testIndexExitStatus)
}

// testIndexExitStatus: index exits 1 and says why when it indexed nothing
// or refused more than --max-malformed of the lines, and counts the
// documents it found unchanged.
func testIndexExitStatus(t *testing.T) {
	data := t.TempDir()
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("id\ttext\nd1\tnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--corpus", bad}, "failed: nothing was indexed: all 2 lines were refused"},
		{[]string{"--corpus", fixture("corpus.jsonl")}, "failed: 2 of 32 lines (6.2%) were refused, more than the 0.01 allowed (--max-malformed 0.01)"},
	} {
		out, errOut, err := runCari(t, append([]string{"index", "--data", data, "--embedder", "none"}, tc.args...)...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("index %v: %v, printed %q; want exit 1 and %q\n%s", tc.args, err, out, tc.want, errOut)
		}
	}
	// The fixture's documents were indexed all the same; again, they are
	// unchanged.
	out, _ := mustCari(t, "index", "--data", data, "--embedder", "none", "--corpus", fixture("corpus.jsonl"), "--max-malformed", fixtureMaxMalformed)
	if want := fmt.Sprintf("%d of them unchanged", fixtureDocs); !strings.Contains(out, want) {
		t.Errorf("second index printed %q, want %q", out, want)
	}
}

var evalLine = regexp.MustCompile(`^ndcg@10=(\d\.\d{4}) recall@100=(\d\.\d{4}) mrr@10=(\d\.\d{4}) queries=(\d+)\n$`)

func testEvalCommand(t *testing.T, data string) {
	run := filepath.Join(t.TempDir(), "run.txt")
	args := []string{"eval", "--data", data, "--queries", fixture("queries.jsonl"), "--qrels", fixture("qrels.tsv"), "--mode", "keyword"}
	out, _ := mustCari(t, append(args, "--run", run)...)
	m := evalLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("eval printed %q, want one line ndcg@10=X recall@100=X mrr@10=X queries=N", out)
	}
	if m[4] != "5" {
		t.Errorf("eval scored %s queries, want 5", m[4])
	}
	body, err := os.ReadFile(run)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"q1", "q2", "q3", "q4", "q5"} {
		if !regexp.MustCompile(`(?m)^` + q + ` Q0 \S+ 1 \S+ cari-keyword$`).Match(body) {
			t.Errorf("run file has no rank-1 line for %s:\n%s", q, body)
		}
	}

	jsonOut, _ := mustCari(t, append(args, "--json")...)
	var got map[string]any
	if err := json.Unmarshal([]byte(jsonOut), &got); err != nil {
		t.Fatalf("eval --json printed %q: %v", jsonOut, err)
	}
	for i, k := range []string{"ndcg@10", "recall@100", "mrr@10"} {
		if s := fmt.Sprintf("%.4f", got[k]); s != m[i+1] {
			t.Errorf("eval --json %s=%s, the one-line output says %s", k, s, m[i+1])
		}
	}

	t.Run("a refused query scores 0", func(t *testing.T) { testEvalRefusedQuery(t, data) })

	t.Run("agrees with score_run.py", func(t *testing.T) {
		want := scoreRunPy(t, run)
		for _, k := range []string{"ndcg@10", "recall@100", "mrr@10"} {
			if got[k] != want[k] {
				t.Errorf("%s: cari eval %v, score_run.py %v on its run file", k, got[k], want[k])
			}
		}
		if got["queries"] != want["num_q"] {
			t.Errorf("queries: cari eval %v, score_run.py %v", got["queries"], want["num_q"])
		}
	})
}

// testEvalRefusedQuery: a query the searcher refuses (longer than it
// takes) is reported by id and scored 0, and the run goes on.
func testEvalRefusedQuery(t *testing.T, data string) {
	queries := filepath.Join(t.TempDir(), "queries.jsonl")
	long, _ := json.Marshal(strings.Repeat("magma ", searcher.DefaultMaxQueryChars/6+1))
	body, err := os.ReadFile(fixture("queries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	body = append(body, fmt.Sprintf(`{"_id": "q-long", "text": %s}`+"\n", long)...)
	if err := os.WriteFile(queries, body, 0o644); err != nil {
		t.Fatal(err)
	}
	qrels := filepath.Join(t.TempDir(), "qrels.tsv")
	judged, err := os.ReadFile(fixture("qrels.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(qrels, append(judged, "q-long\td1\t1\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut := mustCari(t, "eval", "--data", data, "--queries", queries, "--qrels", qrels, "--mode", "keyword")
	if !strings.Contains(out, "queries=6 refused=1 (scored 0): q-long") {
		t.Errorf("eval printed %q, want six queries scored and q-long refused", out)
	}
	if !strings.Contains(errOut, "query refused") || !strings.Contains(errOut, "query=q-long") {
		t.Errorf("stderr names no refused query:\n%s", errOut)
	}
}

// scoreRunPy scores a run file with ../shared/datasets/eval/score_run.py,
// the reference the evaluator must agree with; it skips if that is absent.
func scoreRunPy(t *testing.T, run string) map[string]float64 {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "datasets", "eval", "score_run.py"))
	if err != nil {
		t.Fatal(err)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found; not comparing with score_run.py")
	}
	if _, err := os.Stat(script); err != nil {
		t.Skipf("no %s; not comparing with it", script)
	}
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, 20*time.Second))
	defer cancel()
	out, err := exec.CommandContext(ctx, python, script, run, fixture("qrels.tsv"), "--json").Output()
	if err != nil {
		t.Fatalf("score_run.py: %v", err)
	}
	var want map[string]float64
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("score_run.py printed %q: %v", out, err)
	}
	return want
}

// served is a running cari serve.
type served struct {
	addr   string
	url    string // of the HTTP side: "http://127.0.0.1:PORT"
	cmd    *exec.Cmd
	logs   string        // file with its stderr
	exited chan struct{} // closed when it has exited; err is then its exit error
	err    error
}

// startServe starts cari serve on free loopback ports (gRPC and HTTP) and
// waits until it answers health checks. A port taken between choosing and
// binding is retried on another. extra holds more arguments, and
// environment variables as "CARI_X=v" entries.
func startServe(t testing.TB, data string, extra ...string) *served {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s := launchServe(t, data, freeLoopbackAddr(t), extra...)
		err := s.waitServing(t, 15*time.Second)
		if err == nil {
			return s
		}
		select {
		case <-s.exited:
			if attempt < 3 && strings.Contains(s.stderr(t), "address already in use") {
				continue
			}
		default:
		}
		t.Fatalf("cari serve did not become healthy: %v\nstderr:\n%s", err, s.stderr(t))
	}
}

func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func launchServe(t testing.TB, data, addr string, extra ...string) *served {
	t.Helper()
	logs, err := os.CreateTemp(t.TempDir(), "serve-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	httpAddr := freeLoopbackAddr(t)
	s := &served{addr: addr, url: "http://" + httpAddr, logs: logs.Name(), exited: make(chan struct{})}
	args := []string{"serve", "--data", data, "--grpc-addr", addr, "--http-addr", httpAddr, "--shutdown-timeout", "3s"}
	env := cariEnv()
	for _, e := range extra {
		if strings.HasPrefix(e, "CARI_") {
			env = append(env, e)
		} else {
			args = append(args, e)
		}
	}
	s.cmd = exec.Command(cariBinary(t), args...)
	s.cmd.Env = env
	s.cmd.Stderr = logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			select {
			case <-s.exited:
			case <-time.After(hangGuard(t, 5*time.Second)):
				t.Errorf("cari serve (pid %d) did not exit after SIGKILL", s.cmd.Process.Pid)
			}
		}
		if t.Failed() {
			t.Logf("cari serve stderr:\n%s", s.stderr(t))
		}
	})
	return s
}

func (s *served) stderr(t testing.TB) string {
	b, err := os.ReadFile(s.logs)
	if err != nil {
		t.Logf("read serve log: %v", err)
	}
	return string(b)
}

// waitServing polls grpc.health.v1.Health/Check until the whole server and
// cari.v1.SearchService answer SERVING.
func (s *served) waitServing(t testing.TB, timeout time.Duration) error {
	if tt, ok := t.(*testing.T); ok {
		timeout = hangGuard(tt, timeout)
	}
	deadline := time.Now().Add(timeout)
	// Wait for the port first: a gRPC client that failed to connect backs off
	// for a second or more before it tries again.
	for {
		c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-s.exited:
			return fmt.Errorf("exited: %v", s.err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("port %s not open after %v", s.addr, timeout)
		}
	}
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	for _, svc := range []string{"", "cari.v1.SearchService"} {
		for {
			ctx, cancel := context.WithDeadline(t.Context(), deadline)
			resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc}, grpc.WaitForReady(true))
			cancel()
			if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("health of %q: %v %v", svc, resp.GetStatus(), err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func testSearchCommand(t *testing.T, addr string) {
	out, _ := mustCari(t, "search", "--addr", addr, "--json", "molten", "magma")
	var resp struct {
		Results []struct{ ID, Title string }
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("search --json printed %q: %v", out, err)
	}
	if len(resp.Results) == 0 || resp.Results[0].ID != "doc02" {
		t.Errorf("search --json molten magma: results %+v, want doc02 first", resp.Results)
	}

	out, _ = mustCari(t, "search", "--addr", addr, "--json", "--domain", "news.example.com", "volcano")
	if !strings.Contains(out, `"news-merapi"`) || strings.Contains(out, `"doc02"`) {
		t.Errorf("search --domain news.example.com volcano printed %s, want news-merapi and not doc02", out)
	}

	_, errOut, err := runCari(t, "search", "--addr", addr, "-n", "500", "volcano")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Errorf("search -n 500: err %v, want a non-zero exit", err)
	}
	// The bound is checked before the request, and worded as the server
	// words it (searcher.CheckNumResults).
	if !strings.Contains(errOut, "num-results: must be between 1 and 100, got 500") {
		t.Errorf("search -n 500 printed %q, want the num_results bound", errOut)
	}

	t.Run("-n beyond int32", func(t *testing.T) {
		if _, _, err := runCari(t, "search", "--addr", addr, "-n", "4294967297", "volcano"); err == nil {
			t.Error("search -n 4294967297 succeeded, want it refused")
		}
	})
}

func testShutdown(t *testing.T, s *served, data string) {
	// Beside the server, stats asks it; verify, which reads the files
	// itself, is refused and says why.
	beside, besideErr := mustCari(t, "stats", "--data", data)
	if want := "these figures come from the server at " + s.addr; !strings.Contains(besideErr, want) {
		t.Errorf("stats beside the server: stderr %q, want it to say %q", besideErr, want)
	}
	if _, errOut, err := runCari(t, "verify", "--data", data); err == nil || !strings.Contains(errOut, "in use") || !strings.Contains(errOut, "cari stats") {
		t.Errorf("verify on the data directory of a running server: err %v, stderr %q; want it refused as in use, naming cari stats", err, errOut)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(hangGuard(t, 5*time.Second)):
		t.Fatal("cari serve still running long after SIGTERM")
	}
	if s.err != nil {
		t.Fatalf("cari serve exited with %v after SIGTERM, want status 0", s.err)
	}
	// The 30 corpus documents, 3 upserted, 1 deleted.
	if docs, chunks := stats(t, data); docs != fixtureDocs+2 || chunks != fixtureDocs+2 {
		t.Errorf("after restart: documents=%d chunks=%d, want %d", docs, chunks, fixtureDocs+2)
	}
	// The server's figures are the ones stats reads from the directory,
	// the time of the last write included (the disk line aside: closing
	// the index rewrites some of its files).
	offline, _ := mustCari(t, "stats", "--data", data)
	noDisk := regexp.MustCompile(`(?m)^disk .*\n`)
	if !strings.Contains(offline, "last write") || noDisk.ReplaceAllString(beside, "") != noDisk.ReplaceAllString(offline, "") {
		t.Errorf("stats beside the server printed\n%s\nand after it stopped\n%s", beside, offline)
	}
}
