package server

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cari-search/cari/indexer"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/store/local"
)

const docsOnlySecret = "docs-only-key-0123456789"

// lettersSpace is the vector space of collections made with the embedder
// "letters" (letterEmbedder) in startCollectionsServer.
var lettersSpace = store.VectorSpace{Model: "static/letters@0123abcd", Dim: 3}

// startCollectionsServer is startServer with a catalog beside the default
// collection, whose other collections open keyword-only local stores, or
// ones with letterEmbedder's vectors when their settings name the embedder
// "letters".
func startCollectionsServer(t *testing.T) (*testServer, *catalog.Catalog) {
	t.Helper()
	cat, err := catalog.Open(t.TempDir(), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	open := func(_ context.Context, rec catalog.Collection) (*Collection, error) {
		var lo local.Options
		var so searcher.Options
		var io indexer.Options
		if rec.Settings.Embedder == "letters" {
			lo.Vectors, so.Embedder, io.Embedder = lettersSpace, letterEmbedder{}, letterEmbedder{}
		}
		st, err := local.Open(cat.Dir(rec.Name), lo)
		if err != nil {
			return nil, err
		}
		// As collections.Open does, writes meet the collection's limits.
		return &Collection{Searcher: searcher.New(st, so), Store: cat.Bounded(st, rec.Name), StoreName: "local", Indexing: io, Close: st.Close}, nil
	}
	keys := append(testKeys, Key{Name: "docs-only", Secret: docsOnlySecret, Scope: ScopeAdmin, Collections: []string{"docs"}})
	ts := startServer(t, serverSetup{guard: GuardOptions{Keys: keys}, opts: func(o *Options) {
		o.Collections = &CollectionSet{Catalog: cat, Open: open}
	}})
	return ts, cat
}

func upsert(t *testing.T, ctx context.Context, ix cariv1.IndexServiceClient, collection string, docs ...*cariv1.Document) error {
	t.Helper()
	s, err := ix.UpsertDocuments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if err := s.Send(&cariv1.UpsertDocumentsRequest{Collection: collection, Document: d}); err != nil {
			break
		}
	}
	_, err = s.CloseAndRecv()
	return err
}

func resultIDs(resp *cariv1.SearchResponse) []string {
	var ids []string
	for _, r := range resp.GetResults() {
		ids = append(ids, r.GetId())
	}
	return ids
}

// TestCollectionsRouting: each request reaches the collection it names
// (or an alias of it), and only that one; an unknown name is NOT_FOUND
// naming it; a key limited to one collection cannot read or change
// another (PERMISSION_DENIED naming it); deleting a collection leaves the
// others whole; requests are counted per collection.
func TestCollectionsRouting(t *testing.T) {
	ts, _ := startCollectionsServer(t)
	admin, docsOnly := withKey(t.Context(), adminSecret), withKey(t.Context(), docsOnlySecret)
	cs := cariv1.NewCollectionServiceClient(ts.conn)
	for _, name := range []string{"docs", "other"} {
		if _, err := cs.CreateCollection(admin, &cariv1.CreateCollectionRequest{Name: name, Settings: &cariv1.CollectionSettings{Embedder: "none"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.CreateCollection(admin, &cariv1.CreateCollectionRequest{Name: "docs"}); status.Code(err) != codes.AlreadyExists {
		t.Errorf("create docs twice: %v, want ALREADY_EXISTS", err)
	}
	if err := upsert(t, admin, ts.index(), "docs", &cariv1.Document{Id: "lava", Title: "Volcano lava", Text: "A volcano pours lava when it erupts."}); err != nil {
		t.Fatal(err)
	}
	if err := upsert(t, admin, ts.index(), "other", &cariv1.Document{Id: "ash", Title: "Volcano ash", Text: "Volcano ash falls on villages."}); err != nil {
		t.Fatal(err)
	}
	if err := upsert(t, admin, ts.index(), "docs", &cariv1.Document{Id: "a", Text: "x"}, &cariv1.Document{Id: "b", Text: "y"}); err != nil {
		t.Fatal(err)
	}
	s, _ := ts.index().UpsertDocuments(admin)
	_ = s.Send(&cariv1.UpsertDocumentsRequest{Collection: "docs", Document: &cariv1.Document{Id: "c", Text: "z"}})
	_ = s.Send(&cariv1.UpsertDocumentsRequest{Collection: "other", Document: &cariv1.Document{Id: "d", Text: "z"}})
	if _, err := s.CloseAndRecv(); status.Code(err) != codes.InvalidArgument {
		t.Errorf("one stream naming two collections: %v, want INVALID_ARGUMENT", err)
	}

	search := func(ctx context.Context, collection string) ([]string, error) {
		resp, err := ts.search().Search(ctx, &cariv1.SearchRequest{Query: "volcano", Collection: collection})
		return resultIDs(resp), err
	}
	for collection, want := range map[string]string{"docs": "lava", "other": "ash", "": "volcano merapi", "default": "volcano merapi"} {
		ids, err := search(admin, collection)
		if err != nil || strings.Join(ids, " ") != want {
			t.Errorf("search %q: %v, %v; want %s", collection, ids, err, want)
		}
	}
	if _, err := search(admin, "nope"); status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown collection: %v, want NOT_FOUND naming it", err)
	}

	// The key limited to docs.
	if ids, err := search(docsOnly, "docs"); err != nil || len(ids) != 1 {
		t.Errorf("docs-only key on docs: %v, %v", ids, err)
	}
	for _, c := range []string{"other", "", "default"} {
		if _, err := search(docsOnly, c); status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "collection") {
			t.Errorf("docs-only key on %q: %v, want PERMISSION_DENIED naming the collection", c, err)
		}
	}
	if err := upsert(t, docsOnly, ts.index(), "other", &cariv1.Document{Id: "x", Text: "x"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("docs-only key writing to other: %v, want PERMISSION_DENIED", err)
	}
	if _, err := cs.DeleteCollection(docsOnly, &cariv1.DeleteCollectionRequest{Name: "other"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("docs-only key deleting other: %v, want PERMISSION_DENIED", err)
	}
	list, err := cs.ListCollections(docsOnly, &cariv1.ListCollectionsRequest{})
	if err != nil || len(list.GetCollections()) != 1 || list.GetCollections()[0].GetName() != "docs" {
		t.Errorf("docs-only key lists %v, %v; want docs alone", list, err)
	}
	r := ts.do(t, "GET", "/v1/stats?collection=other", "", "x-api-key", docsOnlySecret)
	if r.code != 403 || !strings.Contains(string(r.body), "other") {
		t.Errorf("HTTP stats of other with the docs-only key: %d %s, want 403 naming it", r.code, r.body)
	}

	// Aliases and delete.
	if _, err := cs.UpdateAliases(admin, &cariv1.UpdateAliasesRequest{Actions: []*cariv1.AliasAction{{Alias: "live", Collection: "docs"}}}); err != nil {
		t.Fatal(err)
	}
	if ids, err := search(admin, "live"); err != nil || len(ids) != 1 || ids[0] != "lava" {
		t.Errorf("search through the alias: %v, %v", ids, err)
	}
	if _, err := cs.DeleteCollection(admin, &cariv1.DeleteCollectionRequest{Name: "docs"}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("delete a collection with an alias: %v, want FAILED_PRECONDITION", err)
	}
	if _, err := cs.DeleteCollection(admin, &cariv1.DeleteCollectionRequest{Name: "other"}); err != nil {
		t.Fatal(err)
	}
	if _, err := search(admin, "other"); status.Code(err) != codes.NotFound {
		t.Errorf("search a deleted collection: %v, want NOT_FOUND", err)
	}
	if ids, err := search(admin, "docs"); err != nil || len(ids) != 1 {
		t.Errorf("docs after deleting other: %v, %v", ids, err)
	}
	r = ts.do(t, "GET", "/v1/collections", "", "x-api-key", adminSecret)
	if r.code != 200 || !strings.Contains(string(r.body), `"live"`) || strings.Contains(string(r.body), `"other"`) {
		t.Errorf("GET /v1/collections: %d %s", r.code, r.body)
	}
	if m := ts.do(t, "GET", "/metrics", ""); !strings.Contains(string(m.body), `cari_collection_requests_total{collection="docs",method="Search",service="cari.v1.SearchService"}`) {
		t.Errorf("no per-collection request count in /metrics")
	}
}

// TestCollectionMaxDocuments: an upsert that would take a collection past
// its max_documents is RESOURCE_EXHAUSTED naming the collection and the
// bound, over gRPC and HTTP, and stores none of its documents.
func TestCollectionMaxDocuments(t *testing.T) {
	ts, _ := startCollectionsServer(t)
	admin := withKey(t.Context(), adminSecret)
	cs := cariv1.NewCollectionServiceClient(ts.conn)
	if _, err := cs.CreateCollection(admin, &cariv1.CreateCollectionRequest{Name: "capped", Settings: &cariv1.CollectionSettings{Embedder: "none", MaxDocuments: 2}}); err != nil {
		t.Fatal(err)
	}
	doc := func(id string) *cariv1.Document { return &cariv1.Document{Id: id, Text: "tide tables " + id} }
	err := upsert(t, admin, ts.index(), "capped", doc("a"), doc("b"), doc("c"))
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "capped") || !strings.Contains(err.Error(), "at most 2") {
		t.Fatalf("three documents into capped (at most 2): %v, want RESOURCE_EXHAUSTED naming capped and 2", err)
	}
	if err := upsert(t, admin, ts.index(), "capped", doc("a"), doc("b")); err != nil {
		t.Fatalf("two documents into capped: %v", err)
	}
	r := ts.do(t, "POST", "/v1/documents:upsert", `{"collection":"capped","document":{"id":"d","text":"one more"}}`, "x-api-key", adminSecret)
	if r.code != 429 || !strings.Contains(string(r.body), "max_documents") {
		t.Errorf("HTTP upsert past the bound: %d %s, want 429 naming max_documents", r.code, r.body)
	}
	st, err := ts.index().GetStats(admin, &cariv1.GetStatsRequest{Collection: "capped"})
	if err != nil || st.GetDocuments() != 2 {
		t.Errorf("capped holds %d documents (%v), want the 2 that fit", st.GetDocuments(), err)
	}
}
