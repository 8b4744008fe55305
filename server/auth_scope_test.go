package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// TestEveryIndexMethodNeedsAdmin walks the API's descriptors, so that a
// method added later is covered too: every IndexService method needs an
// admin key, every SearchService method a search key, and so does
// GetStats, the one IndexService method that reads only what a search
// page shows.
func TestEveryIndexMethodNeedsAdmin(t *testing.T) {
	for _, fd := range []protoreflect.FileDescriptor{cariv1.File_cari_v1_index_proto, cariv1.File_cari_v1_search_proto} {
		for i := range fd.Services().Len() {
			svc := fd.Services().Get(i)
			want := ScopeAdmin
			if svc.FullName() == "cari.v1.SearchService" {
				want = ScopeSearch
			}
			for j := range svc.Methods().Len() {
				m := "/" + string(svc.FullName()) + "/" + string(svc.Methods().Get(j).Name())
				want := want
				if m == cariv1.IndexService_GetStats_FullMethodName {
					want = ScopeSearch
				}
				if got := scopeFor(m); got != want {
					t.Errorf("%s needs scope %v, want %v", m, got, want)
				}
			}
		}
	}
}

// TestSearchKeysCannotWrite calls every writing IndexService method with a
// search key, with no key and with a wrong one, over gRPC and HTTP, and
// checks that each is refused and that the index did not change; then that
// an attempted secret never reaches the log.
func TestSearchKeysCannotWrite(t *testing.T) {
	ts := startServer(t, serverSetup{guard: GuardOptions{Keys: testKeys}})
	before, err := ts.store.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const wrongSecret = "guessed-secret-0123456789"
	ix := ts.index()
	calls := map[string]func(ctx context.Context) error{
		"UpsertDocuments": func(ctx context.Context) error {
			s, err := ix.UpsertDocuments(ctx)
			if err != nil {
				return err
			}
			if err := s.Send(&cariv1.UpsertDocumentsRequest{Document: &cariv1.Document{Id: "intruder", Text: "written without an admin key"}}); err != nil {
				_, err = s.CloseAndRecv()
				return err
			}
			_, err = s.CloseAndRecv()
			return err
		},
		"DeleteDocuments": func(ctx context.Context) error {
			_, err := ix.DeleteDocuments(ctx, &cariv1.DeleteDocumentsRequest{Ids: []string{"volcano"}})
			return err
		},
		"Crawl": func(ctx context.Context) error {
			s, err := ix.Crawl(ctx, &cariv1.CrawlRequest{Seeds: []string{"https://example.com/"}})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		},
		"Reindex": func(ctx context.Context) error {
			s, err := ix.Reindex(ctx, &cariv1.ReindexRequest{})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		},
	}
	for name, call := range calls {
		for _, c := range []struct {
			who  string
			md   []string
			want codes.Code
		}{
			{"search key", []string{"x-api-key", searchSecret}, codes.PermissionDenied},
			{"search key as bearer", []string{"authorization", "Bearer " + searchSecret}, codes.PermissionDenied},
			{"no key", nil, codes.Unauthenticated},
			{"wrong key", []string{"x-api-key", wrongSecret}, codes.Unauthenticated},
		} {
			err := call(metadata.AppendToOutgoingContext(t.Context(), c.md...))
			if status.Code(err) != c.want {
				t.Errorf("%s with %s: %v, want %v", name, c.who, err, c.want)
			}
		}
	}
	for _, c := range []struct{ path, body string }{
		{"/v1/documents:upsert", `{"document": {"id": "intruder", "text": "x"}}`},
		{"/v1/documents:delete", `{"ids": ["volcano"]}`},
		{"/v1/crawl", `{"seeds": ["https://example.com/"]}`},
		{"/v1/reindex", `{}`},
	} {
		if r := ts.do(t, "POST", c.path, c.body, "X-Api-Key", searchSecret); r.code != http.StatusForbidden {
			t.Errorf("POST %s with a search key: %d %s, want 403", c.path, r.code, r.body)
		}
		if r := ts.do(t, "POST", c.path, c.body); r.code != http.StatusUnauthorized {
			t.Errorf("POST %s without a key: %d %s, want 401", c.path, r.code, r.body)
		}
	}
	after, err := ts.store.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if after.Documents != before.Documents {
		t.Errorf("documents %d before, %d after refused writes", before.Documents, after.Documents)
	}
	if docs, _ := ts.store.Documents(t.Context(), []string{"intruder"}); len(docs) != 0 {
		t.Error("a document written with a search key is stored")
	}
	logs := ts.logs.String()
	for _, secret := range []string{searchSecret, adminSecret, wrongSecret} {
		if strings.Contains(logs, secret) {
			t.Errorf("the secret %q appears in the server log", secret)
		}
	}
	if !strings.Contains(logs, "PermissionDenied") && !strings.Contains(logs, "PERMISSION_DENIED") {
		t.Errorf("the refusals were not logged:\n%s", logs)
	}
}
