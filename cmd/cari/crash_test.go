package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
)

// The crash test kills the real binary with SIGKILL at random moments while
// it indexes, then restarts on the same data directory each time. After
// every kill, cari verify must find the keyword index, the vector log and
// the stored documents whole and in agreement, and every document whose
// batch cari index had acknowledged (its "committed batch" log line, written
// once the batch is durable) must be stored with the text of the round that
// acknowledged it, or a later one.
//
// The rounds alternate between the collection default and a named one
// (crashCollections) of the same data directory, so that half the kills land
// in each, the first of the named one's while cari index creates it; after
// each round both are checked, the one not written to as much as the other.
// That costs one more cari verify per round and one more last round, not
// twice the kills.
//
// It runs when CARI_CRASH_KILLS sets the number of kills (make test-crash
// sets 20), and takes a minute or two; CARI_CRASH_SEED replays a run.
const (
	crashDocs  = 1000
	crashBatch = 32
)

// crashCollections are the collections TestCrashSafety's rounds write to in
// turn.
var crashCollections = []string{catalog.Default, "crash-named"}

func TestCrashSafety(t *testing.T) {
	if os.Getenv("CARI_CRASH_KILLS") == "" {
		t.Skip("kills and restarts the binary many times: run make test-crash (CARI_CRASH_KILLS=20)")
	}
	kills := envInt(t, "CARI_CRASH_KILLS", 20)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CARI_CRASH_SEED"); s != "" {
		seed = uint64(envInt(t, "CARI_CRASH_SEED", 0))
	}
	t.Logf("seed %d (CARI_CRASH_SEED=%d replays this run)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed>>7))

	bin := cariBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	embed := crashEmbedArgs(t)

	ids := make([]string, crashDocs)
	for i := range ids {
		ids[i] = fmt.Sprintf("doc-%04d", i)
	}
	// acked[collection][id] is the latest round that acknowledged the
	// document in that collection.
	acked := map[string]map[string]int{}
	for _, col := range crashCollections {
		acked[col] = map[string]int{}
	}
	// Most kills land while batches commit: at a random moment after the
	// store has opened, within the time indexing takes (learned from the
	// rounds that finish first). One in four lands at a random moment from
	// the start, which is often while the store opens and recovers.
	budget := 3 * time.Second
	killed, round := 0, 0
	for ; killed < kills && round < 3*kills; round++ {
		corpus := writeCrashCorpus(t, dir, round, ids)
		delay := time.Duration(rng.Float64() * float64(budget))
		fromOpen := rng.IntN(4) > 0
		col := crashCollections[round%len(crashCollections)]
		res := indexUntil(t, bin, data, col, corpus, embed, delay, fromOpen)
		for _, id := range ids[:res.acked] {
			acked[col][id] = round
		}
		if res.killed {
			killed++
		} else {
			budget = res.took
		}
		from := "start"
		if fromOpen {
			from = "open"
		}
		t.Logf("round %d (%s): kill %v after %s: killed=%v, %d of %d documents acknowledged", round, col, delay.Round(time.Millisecond), from, res.killed, res.acked, len(ids))
		for _, c := range crashCollections {
			checkAfterCrash(t, bin, data, c, ids, acked[c], round)
		}
		if t.Failed() {
			t.Fatalf("round %d failed", round)
		}
	}
	if killed < kills {
		t.Fatalf("only %d of %d rounds were killed before they finished", killed, kills)
	}
	// One last round per collection runs to the end: every document is
	// then stored with its last text.
	corpus := writeCrashCorpus(t, dir, round, ids)
	for _, col := range crashCollections {
		res := indexUntil(t, bin, data, col, corpus, embed, time.Hour, false)
		if res.killed || res.acked != len(ids) {
			t.Fatalf("last round (%s): killed=%v, %d of %d documents acknowledged", col, res.killed, res.acked, len(ids))
		}
		for _, id := range ids {
			acked[col][id] = round
		}
	}
	for _, col := range crashCollections {
		checkAfterCrash(t, bin, data, col, ids, acked[col], round)
	}
	t.Logf("survived %d kills in %d rounds; %d documents whole after each", killed, round, len(ids))
}

// crashEmbedArgs embeds with the default static model when it has been
// fetched (make models), so that the vector log is part of the test.
func crashEmbedArgs(t *testing.T) []string {
	models, err := filepath.Abs(filepath.Join("..", "..", "models"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(models, "glove-6b-100d.cvec")); err != nil {
		t.Log("no default embedding model (make models): the crash test covers the keyword side only")
		return []string{"--embedder", "none"}
	}
	return []string{"--models", models}
}

// crashText is document i's text in a round: several sentences, so that
// longer documents have several passages, and the round written into it.
func crashText(i, round int) string {
	words := []string{"tide", "glacier", "river", "basalt", "lichen", "orbit", "spore", "delta", "quartz", "monsoon", "fjord", "pollen"}
	var b strings.Builder
	fmt.Fprintf(&b, "Document %d written in round %d.", i, round)
	for s := range 3 + i%40 {
		b.WriteString(" The")
		for w := range 12 {
			b.WriteString(" " + words[(i*7+s*3+w)%len(words)])
		}
		b.WriteString(".")
	}
	return b.String()
}

// roundOf reads the round back from a stored text, or -1.
func roundOf(text string) int {
	_, rest, ok := strings.Cut(text, " written in round ")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(rest[:strings.IndexByte(rest, '.')])
	if err != nil {
		return -1
	}
	return n
}

func writeCrashCorpus(t *testing.T, dir string, round int, ids []string) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("corpus-%d.jsonl", round))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i, id := range ids {
		if err := enc.Encode(map[string]string{"_id": id, "title": "Title of " + id, "text": crashText(i, round)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

type indexRun struct {
	killed bool
	acked  int           // documents acknowledged, from the start of the corpus
	took   time.Duration // from the store's opening to the end
}

// indexUntil runs cari index and kills it with SIGKILL after delay, unless
// it finishes first. The delay counts from the start, or, with fromOpen,
// from the moment the store has opened.
func indexUntil(t *testing.T, bin, data, collection, corpus string, embed []string, delay time.Duration, fromOpen bool) indexRun {
	t.Helper()
	args := append([]string{"index", "--data", data, "--collection", collection, "--corpus", corpus, "--batch", strconv.Itoa(crashBatch),
		"--log-level", "debug", "--log-format", "json"}, embed...)
	cmd := exec.Command(bin, args...)
	cmd.Env = cariEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Acknowledgements are read as the process writes them; a line cut
	// by the kill does not parse and does not count.
	lines := make(chan int)
	opened := make(chan time.Time, 1)
	var tail []string
	go func() {
		defer close(lines)
		acked := 0
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec struct {
				Msg       string `json:"msg"`
				Documents int    `json:"documents"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil {
				switch rec.Msg {
				case "committed batch":
					acked = rec.Documents
				case "opened index generation":
					opened <- time.Now()
				}
			}
			tail = append(tail[max(0, len(tail)-20):], sc.Text())
		}
		lines <- acked
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var run indexRun
	openedAt := start
	if fromOpen {
		select {
		case openedAt = <-opened:
		case err = <-done:
			t.Fatalf("cari index ended before it opened the store: %v\n%s", err, strings.Join(tail, "\n"))
		}
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		run.killed = true
		err = <-done
	case err = <-done:
	}
	run.took = time.Since(openedAt)
	run.acked = <-lines
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); run.killed && ok && !ws.Signaled() {
		// The process exited by itself in the instant before the kill.
		run.killed = false
	}
	if !run.killed && err != nil {
		t.Fatalf("cari index failed without a kill: %v\n%s", err, strings.Join(tail, "\n"))
	}
	return run
}

// checkAfterCrash restarts on data with cari verify, then reads every
// document back and checks it against what was acknowledged.
func checkAfterCrash(t *testing.T, bin, data, collection string, ids []string, acked map[string]int, round int) {
	t.Helper()
	if !crashCollectionExists(t, data, collection, len(acked) > 0, round) {
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t, time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "verify", "--data", data, "--collection", collection, "--json")
	cmd.Env = cariEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var rep local.Report
	if jerr := json.Unmarshal(out, &rep); jerr != nil {
		t.Fatalf("cari verify of %s after round %d: %v (%v)\nstdout:\n%s\nstderr:\n%s", collection, round, err, jerr, out, stderr.String())
	}
	if err != nil || !rep.OK() {
		t.Fatalf("cari verify of %s after round %d: %v: problems %v", collection, round, err, rep.Problems)
	}
	if rep.Documents != rep.VectorDocuments && rep.VectorDocuments != 0 {
		t.Errorf("%s, round %d: %d documents stored, %d with vectors", collection, round, rep.Documents, rep.VectorDocuments)
	}

	s, err := local.Open(catalog.Dir(data, collection), local.Options{})
	if err != nil {
		t.Fatalf("open %s after round %d: %v", collection, round, err)
	}
	defer s.Close()
	docs, err := s.Documents(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(docs)) != rep.Documents {
		t.Errorf("%s, round %d: %d of our documents stored, verify counted %d", collection, round, len(docs), rep.Documents)
	}
	for i, id := range ids {
		d, stored := docs[id]
		want, wasAcked := acked[id]
		switch {
		case !stored && wasAcked:
			t.Errorf("%s, round %d: %s was acknowledged in round %d and is missing", collection, round, id, want)
		case !stored:
		case roundOf(d.Text) < 0 || roundOf(d.Text) > round || d.Text != crashText(i, roundOf(d.Text)):
			t.Errorf("%s, round %d: %s has a text no round wrote: %.80q", collection, round, id, d.Text)
		case wasAcked && roundOf(d.Text) < want:
			t.Errorf("%s, round %d: %s has the text of round %d, but round %d's was acknowledged", collection, round, id, roundOf(d.Text), want)
		}
	}
}

// crashCollectionExists reports whether the catalog of data names
// collection. One that a killed cari index was creating (or the data
// directory itself) may not exist yet, unless a batch written to it was
// acknowledged (hasAcked).
func crashCollectionExists(t *testing.T, data, collection string, hasAcked bool, round int) bool {
	t.Helper()
	cat, err := catalog.Open(data, catalog.Options{MustExist: true})
	if err == nil {
		defer cat.Close()
		_, err = cat.Resolve(collection)
	}
	switch {
	case errors.Is(err, catalog.ErrNoIndex) && !hasAcked: // killed before it made the catalog
		return false
	case errors.Is(err, catalog.ErrNotFound) && !hasAcked:
		return false
	case err != nil:
		t.Fatalf("after round %d: %v", round, err)
	}
	return true
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// TestCrashSafetyRPC kills cari serve with SIGKILL while four clients
// upload documents through UpsertDocuments, 16 to a stream; a stream whose
// response came back OK with all 16 indexed is acknowledged. After each
// kill the same checks as TestCrashSafety run: cari verify, then every
// acknowledged document stored with its text or a later one.
func TestCrashSafetyRPC(t *testing.T) {
	if os.Getenv("CARI_CRASH_KILLS") == "" {
		t.Skip("kills and restarts the binary many times: run make test-crash")
	}
	kills := max(5, envInt(t, "CARI_CRASH_KILLS", 20)/4)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	bin := cariBinary(t)
	data := t.TempDir()
	embed := crashEmbedArgs(t)
	ids := make([]string, 400)
	for i := range ids {
		ids[i] = fmt.Sprintf("rpc-%04d", i)
	}
	const perStream = 16
	acked := map[string]int{}
	for round := range kills {
		s := startServe(t, data, append(embed, "--reranker", "none", "--limit-rate", "0")...)
		conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		ix := cariv1.NewIndexServiceClient(conn)
		ctx, cancel := context.WithCancel(t.Context())
		var mu sync.Mutex
		var wg sync.WaitGroup
		streams := 0
		for c := range 4 {
			wg.Go(func() {
				for k := 0; ctx.Err() == nil; k++ {
					start := ((c*97 + k*perStream*4) % (len(ids) / perStream)) * perStream
					if uploadBatch(ctx, ix, ids, start, perStream, round) {
						mu.Lock()
						for _, id := range ids[start : start+perStream] {
							acked[id] = round
						}
						streams++
						mu.Unlock()
					}
				}
			})
		}
		delay := time.Duration(rng.Float64() * float64(3*time.Second))
		time.Sleep(delay)
		if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-s.exited
		cancel()
		wg.Wait()
		conn.Close()
		t.Logf("round %d: serve killed %v after it was healthy; %d streams acknowledged", round, delay.Round(time.Millisecond), streams)
		checkAfterCrash(t, bin, data, catalog.Default, ids, acked, round)
		if t.Failed() {
			t.Fatalf("round %d failed", round)
		}
	}
}

// uploadBatch sends ids[start:start+n] with this round's texts on one
// UpsertDocuments stream and reports whether all were acknowledged.
func uploadBatch(ctx context.Context, ix cariv1.IndexServiceClient, ids []string, start, n, round int) bool {
	stream, err := ix.UpsertDocuments(ctx)
	if err != nil {
		return false
	}
	for i := start; i < start+n; i++ {
		d := &cariv1.Document{Id: ids[i], Title: "Title of " + ids[i], Text: crashText(i, round)}
		if stream.Send(&cariv1.UpsertDocumentsRequest{Document: d}) != nil {
			return false
		}
	}
	resp, err := stream.CloseAndRecv()
	return err == nil && resp.GetIndexed() == int64(n)
}
