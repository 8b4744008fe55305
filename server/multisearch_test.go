package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// twoScales makes the collections docs and other, whose BM25 scores for
// "volcano" differ by an order of magnitude: in docs three documents of
// twenty name it (a rare, weighty term), in other every document does (a
// term worth little). Fusing by score would put all of docs first.
func twoScales(t *testing.T, ts *testServer) {
	t.Helper()
	admin := withKey(t.Context(), adminSecret)
	cs := cariv1.NewCollectionServiceClient(ts.conn)
	for _, name := range []string{"docs", "other"} {
		if _, err := cs.CreateCollection(admin, &cariv1.CreateCollectionRequest{Name: name, Settings: &cariv1.CollectionSettings{Embedder: "none"}}); err != nil {
			t.Fatal(err)
		}
	}
	var docs, other []*cariv1.Document
	for i := range 3 {
		docs = append(docs, &cariv1.Document{Id: fmt.Sprintf("d%d", i), Text: "volcano " + strings.Repeat("lava ", i)})
		other = append(other, &cariv1.Document{Id: fmt.Sprintf("o%d", i), Text: "volcano " + strings.Repeat("ash ", i)})
	}
	for i := range 17 {
		docs = append(docs, &cariv1.Document{Id: fmt.Sprintf("filler%d", i), Text: "river lake sea"})
	}
	if err := upsert(t, admin, ts.index(), "docs", docs...); err != nil {
		t.Fatal(err)
	}
	if err := upsert(t, admin, ts.index(), "other", other...); err != nil {
		t.Fatal(err)
	}
}

// TestSearchSeveralCollections: a search over two collections whose
// scores differ in scale alternates between them by rank, in the order the
// request lists them; each result names its collection (the collection
// behind an alias, not the alias); its score is the fused one and its
// collection's rank and score are in its debug. The same over HTTP/JSON.
func TestSearchSeveralCollections(t *testing.T) {
	ts, _ := startCollectionsServer(t)
	twoScales(t, ts)
	admin := withKey(t.Context(), adminSecret)
	if _, err := cariv1.NewCollectionServiceClient(ts.conn).UpdateAliases(admin, &cariv1.UpdateAliasesRequest{Actions: []*cariv1.AliasAction{{Alias: "live", Collection: "other"}}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		collections []string
		want        string
	}{
		{[]string{"docs", "other"}, "docs/d0 other/o0 docs/d1 other/o1 docs/d2 other/o2"},
		{[]string{"live", "docs"}, "other/o0 docs/d0 other/o1 docs/d1 other/o2 docs/d2"},
	} {
		resp, err := ts.search().Search(admin, &cariv1.SearchRequest{Query: "volcano", Collections: c.collections, Debug: true})
		if err != nil {
			t.Fatalf("%v: %v", c.collections, err)
		}
		var got []string
		minDocs, maxOther := float32(1e9), float32(0)
		for i, r := range resp.GetResults() {
			got = append(got, r.GetCollection()+"/"+r.GetId())
			if i > 0 && r.GetScore() > resp.GetResults()[i-1].GetScore() {
				t.Errorf("%v: result %d scores %v, above the one before", c.collections, i, r.GetScore())
			}
			if want := int32(i/2 + 1); r.GetDebug().GetCollectionRank() != want {
				t.Errorf("%v: %s has collection rank %d, want %d", c.collections, r.GetId(), r.GetDebug().GetCollectionRank(), want)
			}
			if r.GetCollection() == "docs" {
				minDocs = min(minDocs, r.GetDebug().GetCollectionScore())
			} else {
				maxOther = max(maxOther, r.GetDebug().GetCollectionScore())
			}
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%v: %s, want %s", c.collections, strings.Join(got, " "), c.want)
		}
		// The premise: docs' worst score beats other's best, so that a
		// fusion by score would not interleave them.
		if minDocs <= 3*maxOther {
			t.Errorf("docs' lowest score %v is not well above other's highest %v: the collections do not differ in scale", minDocs, maxOther)
		}
		if resp.GetResolvedSearchType() != cariv1.SearchType_SEARCH_TYPE_KEYWORD || resp.GetReranked() || !strings.Contains(resp.GetRerankSkippedReason(), `collection "docs"`) {
			t.Errorf("%v: type %v, reranked %v (%q)", c.collections, resp.GetResolvedSearchType(), resp.GetReranked(), resp.GetRerankSkippedReason())
		}
	}

	resp, err := ts.search().Search(admin, &cariv1.SearchRequest{Query: "volcano", Collections: []string{"docs", "other"}, NumResults: 3})
	if err != nil || strings.Join(resultIDs(resp), " ") != "d0 o0 d1" || resp.GetResults()[0].GetDebug() != nil {
		t.Errorf("three results over two collections: %v, %v; want d0 o0 d1, without debug", resultIDs(resp), err)
	}
	one, err := ts.search().Search(admin, &cariv1.SearchRequest{Query: "volcano", Collection: "live"})
	if err != nil || len(one.GetResults()) == 0 || one.GetResults()[0].GetCollection() != "other" {
		t.Errorf("a search of one collection through an alias: %v, %v; want its results to name the collection other", one, err)
	}

	r := ts.do(t, "POST", "/v1/search", `{"query": "volcano", "collections": ["other", "docs"], "numResults": 2}`, "x-api-key", adminSecret)
	var body struct {
		Results []struct{ ID, Collection string }
	}
	if err := json.Unmarshal(r.body, &body); r.code != 200 || err != nil || len(body.Results) != 2 ||
		body.Results[0].Collection != "other" || body.Results[1].Collection != "docs" {
		t.Errorf("POST /v1/search over two collections: %d %s", r.code, r.body)
	}
}

// TestSearchSeveralCollectionsRefused: every refusal names what is wrong:
// the first collection outside the key's (PERMISSION_DENIED), a malformed
// name (INVALID_ARGUMENT, with the entry's field), an unknown one
// (NOT_FOUND), a collection named twice, too many, and collection and
// collections together.
func TestSearchSeveralCollectionsRefused(t *testing.T) {
	ts, _ := startCollectionsServer(t)
	twoScales(t, ts)
	admin, docsOnly := withKey(t.Context(), adminSecret), withKey(t.Context(), docsOnlySecret)
	if _, err := cariv1.NewCollectionServiceClient(ts.conn).UpdateAliases(admin, &cariv1.UpdateAliasesRequest{Actions: []*cariv1.AliasAction{{Alias: "live", Collection: "docs"}}}); err != nil {
		t.Fatal(err)
	}
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = fmt.Sprintf("c%d", i)
	}
	for _, c := range []struct {
		ctx         context.Context
		collection  string
		collections []string
		code        codes.Code
		field, says string
	}{
		{docsOnly, "", []string{"docs", "other", "default"}, codes.PermissionDenied, "", `"other"`},
		{docsOnly, "", []string{"live", "default"}, codes.PermissionDenied, "", `"default"`},
		{admin, "", []string{"docs", "Bad Name", "nope"}, codes.InvalidArgument, "collections[1]", `"Bad Name"`},
		{admin, "", []string{"docs", ""}, codes.InvalidArgument, "collections[1]", `""`},
		{admin, "", []string{"docs", "nope"}, codes.NotFound, "", `"nope"`},
		{admin, "", []string{"docs", "other", "live"}, codes.InvalidArgument, "collections[2]", `"live"`},
		{admin, "", eleven, codes.InvalidArgument, "collections", "at most 10"},
		{admin, "docs", []string{"other"}, codes.InvalidArgument, "collections", `"docs"`},
	} {
		_, err := ts.search().Search(c.ctx, &cariv1.SearchRequest{Query: "volcano", Collection: c.collection, Collections: c.collections})
		st := status.Convert(err)
		if st.Code() != c.code || !strings.Contains(st.Message(), c.says) {
			t.Errorf("%q/%q: %v, want %v saying %s", c.collection, c.collections, err, c.code, c.says)
			continue
		}
		if c.field == "" {
			continue
		}
		var field string
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
				field = br.GetFieldViolations()[0].GetField()
			}
		}
		if field != c.field {
			t.Errorf("%q/%q: field %q, want %q", c.collection, c.collections, field, c.field)
		}
	}
	if ids, err := ts.search().Search(docsOnly, &cariv1.SearchRequest{Query: "volcano", Collections: []string{"live"}}); err != nil || len(ids.GetResults()) == 0 {
		t.Errorf("the docs-only key over its own collection's alias: %v", err)
	}
	if _, err := ts.search().Search(admin, &cariv1.SearchRequest{Query: "volcano", Collection: "Bad Name"}); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `"Bad Name"`) {
		t.Errorf("collection \"Bad Name\": %v, want INVALID_ARGUMENT naming it", err)
	}
}

// TestListCollectionsFigures: ListCollections and GetCollection give each
// collection's document count and embedding model, as GetStats does.
func TestListCollectionsFigures(t *testing.T) {
	ts, _ := startCollectionsServer(t)
	twoScales(t, ts)
	admin := withKey(t.Context(), adminSecret)
	cs := cariv1.NewCollectionServiceClient(ts.conn)
	if _, err := cs.CreateCollection(admin, &cariv1.CreateCollectionRequest{Name: "vec", Settings: &cariv1.CollectionSettings{Embedder: "letters"}}); err != nil {
		t.Fatal(err)
	}
	if err := upsert(t, admin, ts.index(), "vec", &cariv1.Document{Id: "v", Text: "a volcano"}); err != nil {
		t.Fatal(err)
	}
	list, err := cs.ListCollections(admin, &cariv1.ListCollectionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range list.GetCollections() {
		got[c.GetName()] = fmt.Sprintf("%d %s", c.GetDocumentCount(), c.GetEmbeddingModel().GetId())
		if c.DocumentCount == nil {
			t.Errorf("%s: no document count", c.GetName())
		}
	}
	def, err := ts.index().GetStats(admin, &cariv1.GetStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"default": fmt.Sprintf("%d ", def.GetDocuments()), "docs": "20 ", "other": "3 ", "vec": "1 " + lettersSpace.Model}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ListCollections: %v, want %v", got, want)
	}
	vec, err := cs.GetCollection(admin, &cariv1.GetCollectionRequest{Name: "vec"})
	if err != nil || vec.GetDocumentCount() != 1 || vec.GetEmbeddingModel().GetDimension() != int32(lettersSpace.Dim) {
		t.Errorf("GetCollection vec: %v, %v", vec, err)
	}
	r := ts.do(t, "GET", "/v1/collections", "", "x-api-key", searchSecret)
	if r.code != 200 || !strings.Contains(string(r.body), `"documentCount":"20"`) {
		t.Errorf("GET /v1/collections: %d %s, want documentCount", r.code, r.body)
	}
}
