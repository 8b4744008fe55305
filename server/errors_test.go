package server

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cari-search/cari/store"
)

// A store's refusals that the operator can fix become FAILED_PRECONDITION
// with the store's message, which says how, not INTERNAL.
func TestStatusOfStoreRefusals(t *testing.T) {
	for _, err := range []error{store.ErrModelMismatch, store.ErrNoCategories} {
		wrapped := fmt.Errorf("search: %w", err)
		st := status.Convert(statusOf(context.Background(), slog.New(slog.DiscardHandler), "/test", wrapped))
		if st.Code() != codes.FailedPrecondition || st.Message() != wrapped.Error() {
			t.Errorf("%v: %v %q, want FailedPrecondition with the message", err, st.Code(), st.Message())
		}
	}
}
