package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cari-search/cari/indexer/reindex"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/store/local"
)

// reindexAll runs a Reindex call to its end and returns its messages.
func reindexAll(t *testing.T, c cariv1.IndexServiceClient, req *cariv1.ReindexRequest) ([]*cariv1.ReindexProgress, error) {
	t.Helper()
	stream, err := c.Reindex(t.Context(), req)
	if err != nil {
		return nil, err
	}
	var out []*cariv1.ReindexProgress
	for {
		p, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
}

func TestReindexRequests(t *testing.T) {
	imports := t.TempDir()
	good := filepath.Join(imports, "corpus.jsonl")
	os.WriteFile(good, []byte(`{"_id": "r1", "title": "Rebuilt", "text": "a rebuilt document about tides"}`+"\n"+`{"_id": 5}`+"\n"), 0o644)
	outside := filepath.Join(t.TempDir(), "corpus.jsonl")
	os.WriteFile(outside, []byte(`{"_id": "x", "text": "x"}`+"\n"), 0o644)

	ts := startServer(t, serverSetup{opts: func(o *Options) {
		store := o.Store.(*local.Store)
		o.Reindex = ReindexOptions{
			Target:     reindex.Builds(store.BeginBuild),
			Stored:     store,
			ImportDirs: []string{imports},
			GC:         store.GC,
			Keep:       1,
		}
	}})
	c := ts.index()
	corpus := func(p string) *cariv1.ReindexRequest {
		return &cariv1.ReindexRequest{Source: &cariv1.ReindexRequest_CorpusPath{CorpusPath: p}}
	}
	withFraction := func(r *cariv1.ReindexRequest, f float32) *cariv1.ReindexRequest {
		r.MaxFailedFraction = proto.Float32(f)
		return r
	}
	for _, tc := range []struct {
		name  string
		req   *cariv1.ReindexRequest
		code  codes.Code
		field string
	}{
		{"no source", &cariv1.ReindexRequest{}, codes.InvalidArgument, "source"},
		{"outside the import directories", corpus(outside), codes.PermissionDenied, "corpus_path"},
		{"missing file", corpus(filepath.Join(imports, "nope.jsonl")), codes.NotFound, "corpus_path"},
		{"missing warc", &cariv1.ReindexRequest{Source: &cariv1.ReindexRequest_WarcPath{WarcPath: filepath.Join(imports, "*.warc.gz")}}, codes.NotFound, "warc_path"},
		{"fraction out of range", withFraction(corpus(good), 2), codes.InvalidArgument, "max_failed_fraction"},
		{"another model", &cariv1.ReindexRequest{Source: &cariv1.ReindexRequest_CurrentIndex{CurrentIndex: &cariv1.CurrentIndexSource{}},
			EmbeddingModel: &cariv1.EmbeddingModelSettings{Model: "BAAI/bge-m3"}}, codes.Unimplemented, "embedding_model"},
		{"a failure when none may fail", withFraction(corpus(good), 0), codes.Aborted, "1 of 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.store.Generation().Name
			_, err := reindexAll(t, c, tc.req)
			if status.Code(err) != tc.code || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("%v, want %v naming %q", err, tc.code, tc.field)
			}
			gens, _ := ts.store.Generations(context.Background())
			if ts.store.Generation().Name != before || len(gens) != 1 {
				t.Fatalf("a refused job changed the generations: serving %s (was %s), %d on disk", ts.store.Generation().Name, before, len(gens))
			}
		})
	}

	t.Run("current index", func(t *testing.T) {
		before, _ := ts.store.Stats(t.Context())
		msgs, err := reindexAll(t, c, &cariv1.ReindexRequest{Source: &cariv1.ReindexRequest_CurrentIndex{CurrentIndex: &cariv1.CurrentIndexSource{}}})
		if err != nil {
			t.Fatal(err)
		}
		last := msgs[len(msgs)-1]
		if last.GetPhase() != cariv1.ReindexPhase_REINDEX_PHASE_DONE || !last.GetSwapped() || last.GetDocumentsDone() != before.Documents ||
			last.GetDocumentsTotal() != before.Documents || last.GetJobId() == "" || last.GetGeneration() == before.Generation {
			t.Fatalf("last message %v; before %+v", last, before)
		}
		after, _ := ts.store.Stats(t.Context())
		if after.Generation != last.GetGeneration() || after.Documents != before.Documents {
			t.Fatalf("after: %+v, want %d documents in %s", after, before.Documents, last.GetGeneration())
		}
	})

	t.Run("corpus", func(t *testing.T) {
		msgs, err := reindexAll(t, c, withFraction(corpus(good), 0.5))
		if err != nil {
			t.Fatal(err)
		}
		last := msgs[len(msgs)-1]
		if last.GetDocumentsFailed() != 1 || last.GetErrors()["invalid"] != 1 || last.GetDocumentsDone() != 2 {
			t.Fatalf("last message %v", last)
		}
		resp, err := ts.search().Search(t.Context(), &cariv1.SearchRequest{Query: "rebuilt tides", Type: cariv1.SearchType_SEARCH_TYPE_KEYWORD})
		if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetId() != "r1" {
			t.Fatalf("search after the swap: %v, %v", resp, err)
		}
		// Keep 1: the serving generation and one replaced one remain,
		// the serving one listed first.
		st, err := c.GetStats(t.Context(), &cariv1.GetStatsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		gens := st.GetGenerations()
		if len(gens) != 2 || gens[0].GetName() != last.GetGeneration() || gens[0].GetState() != cariv1.GenerationState_GENERATION_STATE_SERVING ||
			gens[0].GetDocuments() != 1 || gens[1].GetState() != cariv1.GenerationState_GENERATION_STATE_RETIRED || gens[1].GetDocuments() == 0 ||
			st.GetIndexSizeBytes() <= gens[0].GetSizeBytes() {
			t.Fatalf("GetStats generations %v, index size %d", gens, st.GetIndexSizeBytes())
		}
	})
	t.Run("over HTTP", func(t *testing.T) {
		r := ts.do(t, "POST", "/v1/reindex", `{"currentIndex": {}}`)
		lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
		var last struct {
			Result struct {
				JobID   string `json:"jobId"`
				Phase   string
				Swapped bool
			}
		}
		if r.code != http.StatusOK || json.Unmarshal([]byte(lines[len(lines)-1]), &last) != nil ||
			last.Result.Phase != "REINDEX_PHASE_DONE" || !last.Result.Swapped || last.Result.JobID == "" {
			t.Fatalf("POST /v1/reindex: %d\n%s", r.code, r.body)
		}
		r = ts.do(t, "POST", "/v1/reindex", `{}`)
		if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), "source") {
			t.Fatalf("POST /v1/reindex without a source: %d %s", r.code, r.body)
		}
	})
}

func TestReindexNotConfigured(t *testing.T) {
	ts := startServer(t, serverSetup{})
	_, err := reindexAll(t, ts.index(), &cariv1.ReindexRequest{Source: &cariv1.ReindexRequest_CurrentIndex{CurrentIndex: &cariv1.CurrentIndexSource{}}})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("%v, want FAILED_PRECONDITION", err)
	}
}
