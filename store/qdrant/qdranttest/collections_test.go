package qdranttest

import (
	"context"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestCollectionNames: the double takes the names Qdrant takes (a dot, as
// in Cari's generations of a named collection) and refuses those it refuses.
func TestCollectionNames(t *testing.T) {
	c := collectionsAPI{Server: New()}
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"cari.docs.first", true}, {"cari-first", true}, {"a:b", false}, {"a/b", false}, {"a*", false}} {
		_, err := c.Create(context.Background(), &qdrant.CreateCollection{CollectionName: tc.name})
		if tc.ok != (err == nil) || (err != nil && status.Code(err) != codes.InvalidArgument) {
			t.Errorf("create %q: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
