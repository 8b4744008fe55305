package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/store/qdrant/qdranttest"
)

// TestQdrantStoreEndToEnd runs index, eval and serve with --store qdrant
// against the in-process Qdrant double, and checks that they give what the
// same commands give on the local store: the same documents, the same
// metrics, the same results. The double is not Qdrant (see qdranttest);
// this checks Cari's wiring and that the two stores agree.
func TestQdrantStoreEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: indexes and serves on two stores (about 20 s)")
	}
	srv, addr := qdranttest.Start(t, "qdrant-test-key")
	key := filepath.Join(t.TempDir(), "qdrant.key")
	if err := os.WriteFile(key, []byte("qdrant-test-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	embed := []string{"--embedder", "none"}
	if _, err := os.Stat(filepath.Join("..", "..", "models", "glove-6b-100d.cvec")); err == nil {
		embed = []string{"--embedder", "static", "--models", filepath.Join("..", "..", "models")}
	}
	// One shard: Qdrant computes BM25's IDF over each shard's documents
	// (so does the double), so with several shards keyword scores differ
	// from the local store's and the two would not agree exactly.
	qd := append([]string{"--store", "qdrant", "--qdrant-addr", addr, "--qdrant-api-key-file", key, "--qdrant-shards", "1"}, embed...)

	localData, qdrantData := t.TempDir(), t.TempDir()
	mustCari(t, append([]string{"index", "--data", localData, "--corpus", fixture("corpus.jsonl"), "--max-malformed", fixtureMaxMalformed}, embed...)...)
	out, _ := mustCari(t, append([]string{"index", "--data", qdrantData, "--corpus", fixture("corpus.jsonl"), "--max-malformed", fixtureMaxMalformed}, qd...)...)
	if want := "indexed 30 documents from"; len(out) < len(want) || out[:len(want)] != want {
		t.Errorf("index --store qdrant printed %q", out)
	}
	if n := len(srv.Requests("Points/Upsert")); n == 0 {
		t.Fatal("no upserts reached the double")
	}
	if c := srv.Requests("Collections/Create"); len(c) == 0 || c[0].Message.(*qdrant.CreateCollection).GetShardNumber() != 1 {
		t.Errorf("--qdrant-shards 1 did not reach the collection: %v", c)
	}

	modes := []string{"keyword"}
	if embed[1] == "static" {
		modes = append(modes, "neural", "hybrid")
	}
	for _, mode := range modes {
		// Re-ranking is the same code on either store; left out, the
		// results compare the stores alone.
		args := []string{"eval", "--queries", fixture("queries.jsonl"), "--qrels", fixture("qrels.tsv"), "--mode", mode, "--reranker", "none"}
		local, _ := mustCari(t, append(append(args, "--data", localData), embed...)...)
		remote, _ := mustCari(t, append(append(args, "--data", qdrantData), qd...)...)
		if evalLine.FindString(remote) == "" || remote != local {
			t.Errorf("eval --mode %s: qdrant %q, local %q", mode, remote, local)
		}
	}

	localSrv := startServe(t, localData, slices.Concat(embed, []string{"--reranker", "none"})...)
	remoteSrv := startServe(t, qdrantData, slices.Concat(qd, []string{"--reranker", "none"})...)
	for _, q := range []*cariv1.SearchRequest{
		{Query: "how do plants turn sunlight into energy", NumResults: 5},
		{Query: "volcano magma", NumResults: 5, Type: cariv1.SearchType_SEARCH_TYPE_KEYWORD},
	} {
		want := search(t, searchClient(t, localSrv.addr), q)
		got := search(t, searchClient(t, remoteSrv.addr), q)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%q: qdrant serve %v, local %v", q.Query, got, want)
		}
	}
	t.Run("reindex", func(t *testing.T) { testQdrantReindex(t, srv, remoteSrv.addr) })
}

// testQdrantReindex rebuilds the serving Qdrant generation from its own
// documents through the Reindex RPC: a new collection, swapped in by the
// alias, serving the same documents, the replaced one kept for rollback
// (--reindex-keep 1, the default).
func testQdrantReindex(t *testing.T, srv *qdranttest.Server, addr string) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	index := cariv1.NewIndexServiceClient(conn)
	before, err := index.GetStats(rpcContext(t), &cariv1.GetStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := index.Reindex(rpcContext(t), &cariv1.ReindexRequest{Source: &cariv1.ReindexRequest_CurrentIndex{CurrentIndex: &cariv1.CurrentIndexSource{}}})
	if err != nil {
		t.Fatal(err)
	}
	last := reindexToEnd(t, stream)
	if last.GetPhase() != cariv1.ReindexPhase_REINDEX_PHASE_DONE || !last.GetSwapped() || last.GetDocumentsDone() != 30 {
		t.Fatalf("last progress %v, want DONE and swapped after 30 documents", last)
	}
	after, err := index.GetStats(rpcContext(t), &cariv1.GetStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if after.GetServingGeneration() == before.GetServingGeneration() || after.GetDocuments() != 30 || after.GetStore() != "qdrant" {
		t.Errorf("stats after the reindex %v, before %v: want a new generation of 30 documents", after, before)
	}
	if got := search(t, cariv1.NewSearchServiceClient(conn), &cariv1.SearchRequest{Query: "volcano magma", NumResults: 3}); len(got) == 0 {
		t.Error("no results after the reindex")
	}
	for _, r := range srv.Requests("Collections/Delete") {
		if d, ok := r.Message.(*qdrant.DeleteCollection); ok && d.GetCollectionName() == before.GetServingGeneration() {
			t.Errorf("the replaced generation %s was dropped; --reindex-keep 1 keeps it", d.GetCollectionName())
		}
	}
}

func searchClient(t *testing.T, addr string) cariv1.SearchServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return cariv1.NewSearchServiceClient(conn)
}
