package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// slice is a small BEIR collection cut from one of ../shared/datasets.
type slice struct{ corpus, queries, qrels string }

// datasetSlice writes into a temporary directory the first nQueries judged
// queries of the dataset in dir, their qrels, and a corpus of every
// document judged for them plus the first nExtra others; it skips the test
// when the dataset is absent.
func datasetSlice(t *testing.T, dir, corpusFile string, nQueries, nExtra int) slice {
	t.Helper()
	qrels, err := os.ReadFile(filepath.Join(dir, "qrels.tsv"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is absent", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	s := slice{filepath.Join(out, "corpus.jsonl"), filepath.Join(out, "queries.jsonl"), filepath.Join(out, "qrels.tsv")}
	queries, judged := map[string]bool{}, map[string]bool{}
	var qrelLines []string
	for i, line := range strings.Split(strings.TrimSpace(string(qrels)), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) != 3 || (!queries[f[0]] && len(queries) == nQueries) {
			continue
		}
		queries[f[0]], judged[f[1]] = true, true
		qrelLines = append(qrelLines, line)
	}
	writeLines(t, s.qrels, append([]string{"query-id\tcorpus-id\tscore"}, qrelLines...))
	writeLines(t, s.queries, readLinesWhere(t, filepath.Join(dir, "queries.jsonl"), func(id string, _ int) bool { return queries[id] }))
	extra := 0
	writeLines(t, s.corpus, readLinesWhere(t, filepath.Join(dir, corpusFile), func(id string, _ int) bool {
		if judged[id] {
			return true
		}
		extra++
		return extra <= nExtra
	}))
	return s
}

// readLinesWhere returns the lines of a JSON-lines file (gzipped when
// named .gz) whose "_id" keep accepts.
func readLinesWhere(t *testing.T, path string, keep func(id string, n int) bool) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		if r, err = gzip.NewReader(f); err != nil {
			t.Fatal(err)
		}
	}
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var rec struct {
			ID string `json:"_id"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && keep(rec.ID, len(out)) {
			out = append(out, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	sciOnlyKey = "sci-only-search-key-0123456789"
	accAdmin   = "acceptance-admin-key-0123456789"
)

// TestCollectionsAcceptance is issue 22's acceptance on slices of SciFact
// (the default model, hybrid) and Cranfield (--embedder none, keyword) in
// one data directory: each evaluates exactly as it does alone; a reindex
// of one while the other is searched loses no search of either; a search
// key limited to one (--auth-search-key-collections) cannot read the other
// over gRPC, HTTP/JSON or Exa's endpoints, and reads its own on all three.
func TestCollectionsAcceptance(t *testing.T) {
	cariBinary(t)
	models, err := filepath.Abs(filepath.Join("..", "..", "models"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(models, "glove-6b-100d.cvec")); err != nil {
		t.Skip("needs the default model (make models, or a models link to it)")
	}
	sci := datasetSlice(t, scifactDir, "corpus.jsonl.gz", 40, 300)
	cran := datasetSlice(t, "../../../shared/datasets/cranfield", "corpus.jsonl", 20, 100)
	indexSci := func(data string) {
		mustCari(t, "index", "--data", data, "--collection", "sci", "--corpus", sci.corpus, "--embedder", "static", "--models", models)
	}
	indexCran := func(data string) {
		mustCari(t, "index", "--data", data, "--collection", "cran", "--corpus", cran.corpus, "--embedder", "none")
	}
	eval := func(data, collection string, s slice, mode string) string {
		out, _ := mustCari(t, "eval", "--data", data, "--collection", collection, "--queries", s.queries, "--qrels", s.qrels, "--mode", mode, "--reranker", "none", "--models", models)
		return out
	}
	aloneSci, aloneCran, shared := t.TempDir(), t.TempDir(), t.TempDir()
	indexSci(aloneSci)
	indexCran(aloneCran)
	indexCran(shared)
	indexSci(shared)
	wantSci, wantCran := eval(aloneSci, "sci", sci, "hybrid"), eval(aloneCran, "cran", cran, "keyword")
	if got := eval(shared, "sci", sci, "hybrid"); got != wantSci {
		t.Errorf("sci beside cran:\n%s\nwant as alone:\n%s", got, wantSci)
	}
	if got := eval(shared, "cran", cran, "keyword"); got != wantCran {
		t.Errorf("cran beside sci:\n%s\nwant as alone:\n%s", got, wantCran)
	}
	t.Logf("alone and together:\nsci hybrid\n%s\ncran keyword\n%s", wantSci, wantCran)

	srv := startServe(t, shared, "CARI_AUTH_SEARCH_KEYS="+sciOnlyKey, "CARI_AUTH_ADMIN_KEYS="+accAdmin,
		"--auth-search-key-collections", "sci", "--models", models, "--reranker", "none", "--limit-rate", "0")
	conn, err := grpc.NewClient(srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	withKey := func(key string) context.Context {
		return metadata.AppendToOutgoingContext(t.Context(), "x-api-key", key)
	}
	checkScopedKey(t, srv, cariv1.NewSearchServiceClient(conn), withKey(sciOnlyKey))
	searchWhileReindexing(t, conn, withKey(accAdmin), sci, cran)
}

// checkScopedKey: the key limited to sci reads sci and not cran (nor
// default) over gRPC, HTTP/JSON and Exa's endpoints, each refusal naming
// the collection.
func checkScopedKey(t *testing.T, srv *served, search cariv1.SearchServiceClient, ctx context.Context) {
	t.Helper()
	for _, c := range []struct {
		collection string
		want       codes.Code
	}{{"sci", codes.OK}, {"cran", codes.PermissionDenied}, {"", codes.PermissionDenied}} {
		_, err := search.Search(ctx, &cariv1.SearchRequest{Query: "aircraft wing", Collection: c.collection})
		if status.Code(err) != c.want || (err != nil && !strings.Contains(err.Error(), "collection")) {
			t.Errorf("gRPC search of %q with the sci-only key: %v, want %s", c.collection, err, c.want)
		}
		_, err = search.GetContents(ctx, &cariv1.GetContentsRequest{Ids: []string{"1"}, Collection: c.collection})
		if status.Code(err) != c.want {
			t.Errorf("gRPC contents of %q with the sci-only key: %v, want %s", c.collection, err, c.want)
		}
	}
	for _, c := range []struct {
		path, body string
		code       int
	}{
		{"/v1/search", `{"query":"aircraft wing","collection":"sci"}`, http.StatusOK},
		{"/v1/search", `{"query":"aircraft wing","collection":"cran"}`, http.StatusForbidden},
		{"/v1/contents", `{"ids":["1"],"collection":"cran"}`, http.StatusForbidden},
		{"/c/sci/search", `{"query":"aircraft wing"}`, http.StatusOK},
		{"/c/cran/search", `{"query":"aircraft wing"}`, http.StatusForbidden},
		{"/c/cran/contents", `{"ids":["1"]}`, http.StatusForbidden},
		{"/c/cran/findSimilar", `{"url":"cari:doc/1"}`, http.StatusForbidden},
		{"/c/cran/answer", `{"query":"aircraft wing"}`, http.StatusForbidden},
		{"/search", `{"query":"aircraft wing"}`, http.StatusForbidden},
	} {
		code, _, body := call(t, http.MethodPost, srv.url+c.path, c.body, "X-Api-Key", sciOnlyKey)
		if code != c.code || (code == http.StatusForbidden && !strings.Contains(string(body), "collection")) {
			t.Errorf("POST %s %s with the sci-only key: %d %s, want %d", c.path, c.body, code, body, c.code)
		}
	}
}

// searchWhileReindexing reindexes sci (from its stored documents) while
// clients search both collections without pause: every search answers, and
// cran's answers do not change.
func searchWhileReindexing(t *testing.T, conn *grpc.ClientConn, ctx context.Context, sci, cran slice) {
	t.Helper()
	search := cariv1.NewSearchServiceClient(conn)
	queries := map[string][]string{}
	for name, s := range map[string]slice{"sci": sci, "cran": cran} {
		for _, line := range readLinesWhere(t, s.queries, func(string, int) bool { return true }) {
			var q struct{ Text string }
			_ = json.Unmarshal([]byte(line), &q)
			queries[name] = append(queries[name], q.Text)
		}
	}
	top := func(collection, q string) (string, error) {
		resp, err := search.Search(ctx, &cariv1.SearchRequest{Query: q, Collection: collection, NumResults: 10})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(resultIDs(resp)), nil
	}
	want := map[string]string{}
	for _, q := range queries["cran"] {
		ids, err := top("cran", q)
		if err != nil {
			t.Fatal(err)
		}
		want[q] = ids
	}
	var (
		stop             atomic.Bool
		searches, failed atomic.Int64
		changed          atomic.Int64
		firstErr         atomic.Value
		wg               sync.WaitGroup
	)
	for _, collection := range []string{"sci", "cran", "cran"} {
		wg.Go(func() {
			qs := queries[collection]
			for i := 0; !stop.Load(); i++ {
				ids, err := top(collection, qs[i%len(qs)])
				searches.Add(1)
				switch {
				case err != nil:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Errorf("%s: %w", collection, err))
				case collection == "cran" && ids != want[qs[i%len(qs)]]:
					changed.Add(1)
				}
			}
		})
	}
	rctx, cancel := context.WithTimeout(ctx, hangGuard(t, 5*time.Minute))
	defer cancel()
	stream, err := cariv1.NewIndexServiceClient(conn).Reindex(rctx, &cariv1.ReindexRequest{Collection: "sci",
		Source: &cariv1.ReindexRequest_CurrentIndex{CurrentIndex: &cariv1.CurrentIndexSource{}}})
	if err != nil {
		t.Fatal(err)
	}
	last := reindexToEnd(t, stream)
	stop.Store(true)
	wg.Wait()
	if last.GetPhase() != cariv1.ReindexPhase_REINDEX_PHASE_DONE {
		t.Errorf("reindex sci ended in %v, want done", last)
	}
	if searches.Load() == 0 || failed.Load() != 0 || changed.Load() != 0 {
		t.Errorf("during the reindex of sci: %d searches, %d failed (first: %v), %d of cran's answers changed; want none lost or changed",
			searches.Load(), failed.Load(), firstErr.Load(), changed.Load())
	}
	t.Logf("%d searches of sci and cran during the reindex of sci, none failed", searches.Load())
}
