package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
)

const scifactDir = "../../../shared/datasets/scifact"

type corpusDoc struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// scifactCorpus reads SciFact's first n documents (all when n <= 0), or
// skips the test when the datasets are absent.
func scifactCorpus(t *testing.T, n int) []corpusDoc {
	t.Helper()
	f, err := os.Open(filepath.Join(scifactDir, "corpus.jsonl.gz"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("../shared/datasets/scifact is absent")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var docs []corpusDoc
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() && (n <= 0 || len(docs) < n) {
		var d corpusDoc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return docs
}

func writeCorpusFile(t *testing.T, path string, docs []corpusDoc) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(f)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func scifactQueries(t *testing.T, n int) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(scifactDir, "queries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for line := range strings.Lines(string(b)) {
		var q struct{ Text string }
		if json.Unmarshal([]byte(line), &q) == nil && q.Text != "" {
			out = append(out, q.Text)
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// genBMark starts every title of the second generation, so a result shows
// which generation it came from.
const genBMark = "[genB] "

// While several clients search without pause, IndexService.Reindex builds
// a second generation of SciFact and swaps it in: no search fails, and
// every response comes from one generation, never a mix.
func TestReindexSwapUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("reindexes SciFact in the real binary under load: long; runs without -short")
	}
	corpus := scifactCorpus(t, 0)
	imports := t.TempDir()
	pathA, pathB := filepath.Join(imports, "a.jsonl"), filepath.Join(imports, "b.jsonl")
	writeCorpusFile(t, pathA, corpus)
	marked := slices.Clone(corpus)
	for i := range marked {
		marked[i].Title = genBMark + marked[i].Title
	}
	writeCorpusFile(t, pathB, marked)

	data := t.TempDir()
	mustCariLong(t, "index", "--data", data, "--corpus", pathA, "--embedder", "none")
	// The load is the test: no rate limit sheds it.
	srv := startServe(t, data, "--embedder", "none", "--reindex-import-dir", imports, "--reranker", "none", "--limit-rate", "0")
	conn, err := grpc.NewClient(srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	search := cariv1.NewSearchServiceClient(conn)
	queries := scifactQueries(t, 60)

	var (
		stop                                  atomic.Bool
		searches, failed, mixed, fromA, fromB atomic.Int64
		firstErr                              atomic.Value
		wg                                    sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := w; !stop.Load(); i++ {
				ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, 30*time.Second))
				resp, err := search.Search(ctx, &cariv1.SearchRequest{Query: queries[i%len(queries)], Type: cariv1.SearchType_SEARCH_TYPE_KEYWORD, NumResults: 10})
				cancel()
				searches.Add(1)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				b := 0
				for _, r := range resp.GetResults() {
					if strings.HasPrefix(r.GetTitle(), genBMark) {
						b++
					}
				}
				switch {
				case b == 0 && len(resp.GetResults()) > 0:
					fromA.Add(1)
				case b == len(resp.GetResults()) && b > 0:
					fromB.Add(1)
				case b > 0:
					mixed.Add(1)
				}
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }()
	// The reindex starts once the searchers are being answered by the
	// first generation, however long the server takes to warm up.
	for started := time.Now(); fromA.Load() < 20; time.Sleep(5 * time.Millisecond) {
		if time.Since(started) > 30*time.Second {
			t.Fatalf("before the reindex: %d searches, %d from the first generation, %d failed (first: %v)",
				searches.Load(), fromA.Load(), failed.Load(), firstErr.Load())
		}
	}

	index := cariv1.NewIndexServiceClient(conn)
	stream, err := index.Reindex(t.Context(), &cariv1.ReindexRequest{Source: &cariv1.ReindexRequest_CorpusPath{CorpusPath: pathB}})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatalf("first progress message: %v", err)
	}
	if first.GetJobId() == "" || first.GetGeneration() == "" && first.GetPhase() != cariv1.ReindexPhase_REINDEX_PHASE_PREPARING {
		t.Fatalf("first progress message %v", first)
	}
	// A second job while this one runs is refused, naming the running one.
	second, err := index.Reindex(t.Context(), &cariv1.ReindexRequest{Source: &cariv1.ReindexRequest_CorpusPath{CorpusPath: pathA}})
	if err == nil {
		_, err = second.Recv()
	}
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), first.GetJobId()) {
		t.Errorf("second Reindex while one runs: %v, want FAILED_PRECONDITION naming %s", err, first.GetJobId())
	}
	last := first
	for {
		p, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Reindex stream: %v", err)
		}
		if p.GetJobId() != first.GetJobId() {
			t.Errorf("job id changed from %s to %s", first.GetJobId(), p.GetJobId())
		}
		last = p
	}
	if last.GetPhase() != cariv1.ReindexPhase_REINDEX_PHASE_DONE || !last.GetSwapped() || last.GetDocumentsDone() != int64(len(corpus)) || last.GetDocumentsTotal() != int64(len(corpus)) {
		t.Fatalf("last progress message %v, want DONE and swapped after %d documents", last, len(corpus))
	}
	afterSwap := fromB.Load()
	deadline := time.Now().Add(hangGuard(t, 10*time.Second))
	for fromB.Load() < afterSwap+20 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d searches during the test: %d from the first generation, %d from the second, %d failed, %d mixed",
		searches.Load(), fromA.Load(), fromB.Load(), failed.Load(), mixed.Load())
	if failed.Load() > 0 {
		t.Errorf("%d of %d searches failed; first: %v", failed.Load(), searches.Load(), firstErr.Load())
	}
	if mixed.Load() > 0 {
		t.Errorf("%d searches mixed results of both generations", mixed.Load())
	}
	if fromA.Load() == 0 || fromB.Load() == 0 {
		t.Errorf("searches saw %d responses of the first generation and %d of the second; want both", fromA.Load(), fromB.Load())
	}

	// Offline: roll back, then remove the generation rolled away from.
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-srv.exited
	out, _ := mustCari(t, "reindex", "--data", data, "--rollback", "--embedder", "none")
	if !strings.Contains(out, "serves now (was "+last.GetGeneration()+")") {
		t.Errorf("reindex --rollback printed %q", out)
	}
	out, _ = mustCari(t, "gc", "--data", data, "--keep", "0")
	if !strings.Contains(out, "removed 1 generations: "+last.GetGeneration()) || strings.Count(out, "serving") != 1 {
		t.Errorf("gc printed %q, want %s removed and one serving generation listed", out, last.GetGeneration())
	}
}

// Killed with SIGKILL in the middle of a reindex, the job resumes when run
// again: the final generation holds every document once, and CURRENT never
// names an unfinished generation.
func TestReindexResumesAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills the real binary reindexing SciFact, then resumes: long; runs without -short")
	}
	corpus := scifactCorpus(t, 0)
	dir := t.TempDir()
	path := filepath.Join(dir, "corpus.jsonl")
	writeCorpusFile(t, path, corpus)
	seed := filepath.Join(dir, "seed.jsonl")
	writeCorpusFile(t, seed, corpus[:10])
	data := filepath.Join(dir, "data")
	embed := []string{"--embedder", "none"}
	if _, err := os.Stat("../../models/glove-6b-100d.cvec"); err == nil {
		embed = []string{"--models", "../../models"}
	} else {
		t.Log("no static model (make models): the reindex is keyword-only")
	}
	mustCari(t, append([]string{"index", "--data", data, "--corpus", seed}, embed...)...)
	before := readCurrentFile(t, data)

	// Watch CURRENT all along: every generation it names must be complete
	// at the moment it is named.
	watchCtx, stopWatch := context.WithCancel(t.Context())
	watched := make(chan []string, 1)
	go func() { watched <- watchCurrent(t, watchCtx, data) }()

	args := append([]string{"reindex", "--data", data, "--corpus", path, "--batch", "64", "--progress-interval", "100ms"}, embed...)
	cmd := exec.Command(cariBinary(t), args...)
	cmd.Env = cariEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once a few batches are committed and well before the end.
	sc := bufio.NewScanner(stderr)
	killed, killedAt := false, 0
	for sc.Scan() {
		var done int
		line := sc.Text()
		if i := strings.Index(line, " done="); i >= 0 && strings.Contains(line, "reindex progress") {
			fmt.Sscanf(line[i+len(" done="):], "%d", &done)
		}
		if done >= 200 {
			if done >= len(corpus) {
				t.Fatalf("the reindex reached %d of %d documents before it could be killed", done, len(corpus))
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed, killedAt = true, done
			break
		}
	}
	go io.Copy(io.Discard, stderr)
	cmd.Wait()
	if !killed {
		t.Fatal("the reindex ended without reporting progress")
	}
	if cur := readCurrentFile(t, data); cur != before {
		t.Fatalf("after the kill CURRENT names %s, want the old %s", cur, before)
	}

	out := mustCariLong(t, args...)
	if !strings.Contains(out, "resumed an unfinished build after its first") {
		t.Errorf("the second run did not resume: %s", out)
	}
	t.Logf("killed after %d of %d documents; the second run printed:\n%s", killedAt, len(corpus), out)
	stopWatch()
	seen := <-watched
	after := readCurrentFile(t, data)
	if after == before {
		t.Fatal("CURRENT still names the old generation after the reindex")
	}
	if want := []string{before, after}; !slices.Equal(seen, want) {
		t.Errorf("CURRENT named %v over time, want %v", seen, want)
	}

	s, err := local.Open(catalog.Dir(data, catalog.Default), local.Options{Rebuild: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids, err := s.DocumentIDs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, len(corpus))
	for i, d := range corpus {
		want[i] = d.ID
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("the new generation holds %d documents, the corpus %d distinct ones", len(ids), len(want))
	}
	st, err := s.Stats(t.Context())
	if err != nil || st.Documents != int64(len(want)) {
		t.Fatalf("stats %+v, %v; want %d documents", st, err, len(want))
	}
}

// mustCariLong runs a cari command that may take minutes and must succeed.
func mustCariLong(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := runCariWithin(t, 5*time.Minute, args...)
	if err != nil {
		t.Fatalf("cari %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func readCurrentFile(t *testing.T, data string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(catalog.Dir(data, catalog.Default), "CURRENT"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// watchCurrent polls DATA/CURRENT until ctx ends and returns the names it
// held, in order; it fails the test if one names a generation whose
// manifest is not complete.
func watchCurrent(t *testing.T, ctx context.Context, data string) []string {
	var seen []string
	for ctx.Err() == nil {
		b, err := os.ReadFile(filepath.Join(catalog.Dir(data, catalog.Default), "CURRENT"))
		if err == nil {
			name := strings.TrimSpace(string(b))
			if len(seen) == 0 || seen[len(seen)-1] != name {
				seen = append(seen, name)
				mb, err := os.ReadFile(filepath.Join(catalog.Dir(data, catalog.Default), "generations", name, "manifest.json"))
				var m local.Manifest
				if err != nil || json.Unmarshal(mb, &m) != nil || !m.Complete() {
					t.Errorf("CURRENT named %s, whose manifest is %q (%v)", name, mb, err)
				}
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return seen
}

// After a reindex, the replaced generation is offered for --rollback only
// when this build can serve it: one recorded with another analyzer (as after
// an analysis change) is said to need the build that made it.
func TestReindexSaysWhetherRollbackCanServe(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.jsonl")
	lines := `{"_id":"a","title":"Whales","text":"Whales sing long songs in the deep ocean."}
{"_id":"b","title":"Krill","text":"Krill swarm in cold polar water and feed the whales."}
`
	if err := os.WriteFile(corpus, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	mustCari(t, "index", "--data", data, "--corpus", corpus, "--embedder", "none")
	first := readCurrentFile(t, data)
	out, _ := mustCari(t, "reindex", "--data", data, "--stored", "--embedder", "none")
	if want := first + " is kept for cari reindex --rollback"; !strings.Contains(out, want) {
		t.Fatalf("reindex printed %q, want %q", out, want)
	}

	// The serving generation as an older build would have recorded it.
	second := readCurrentFile(t, data)
	manifest := filepath.Join(catalog.Dir(data, catalog.Default), "generations", second, "manifest.json")
	b, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["analyzer"] = "multilingual-0: an older analysis"
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ = mustCari(t, "reindex", "--data", data, "--stored", "--embedder", "none")
	if want := second + " is kept, but was built with another analyzer"; !strings.Contains(out, want) {
		t.Errorf("reindex printed %q, want %q", out, want)
	}
}

// reindexToEnd reads a Reindex stream to its end and returns its last
// message.
func reindexToEnd(t *testing.T, stream cariv1.IndexService_ReindexClient) *cariv1.ReindexProgress {
	t.Helper()
	var last *cariv1.ReindexProgress
	for {
		p, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return last
		}
		if err != nil {
			t.Fatalf("Reindex stream: %v", err)
		}
		last = p
	}
}
