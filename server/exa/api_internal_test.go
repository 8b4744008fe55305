package exa

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cari-search/cari/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestFailTags checks the status and Exa tag of each gRPC code the services
// answer: a 400 never carries INTERNAL_ERROR, which Exa keeps for its 500s
// (exa.ai/docs/reference/error-codes: INVALID_REQUEST is a request that is
// well formed but cannot be served as asked).
func TestFailTags(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		tag  string
	}{
		{status.Error(codes.InvalidArgument, "numResults: bad"), 400, "INVALID_REQUEST_BODY"},
		{status.Error(codes.OutOfRange, "numResults: too many"), 400, "INVALID_REQUEST_BODY"},
		{status.Error(codes.FailedPrecondition, fmt.Sprintf("category: %v", store.ErrNoCategories)), 400, "INVALID_REQUEST"},
		{status.Error(codes.Unauthenticated, "no key"), 401, "INVALID_API_KEY"},
		{status.Error(codes.PermissionDenied, "scope"), 403, "ACCESS_DENIED"},
		{status.Error(codes.NotFound, "url"), 404, "NOT_FOUND"},
		{status.Error(codes.ResourceExhausted, "rate"), 429, "RATE_LIMIT_EXCEEDED"},
		{status.Error(codes.Unimplemented, "stream"), 501, "NOT_IMPLEMENTED"},
		{status.Error(codes.Unavailable, "model"), 503, "SERVICE_UNAVAILABLE"},
		{status.Error(codes.DeadlineExceeded, "slow"), 504, "TIMEOUT"},
		{status.Error(codes.Internal, "bug"), 500, "INTERNAL_ERROR"},
		{status.Error(codes.Unknown, "bug"), 500, "INTERNAL_ERROR"},
	} {
		rec := httptest.NewRecorder()
		c := &exaCall{w: rec, r: httptest.NewRequest(http.MethodPost, "/search", nil), requestID: "r1"}
		c.fail(tc.err, 0)
		var body exaError
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: %v", tc.err, err)
		}
		if rec.Code != tc.code || body.Tag != tc.tag {
			t.Errorf("%v: %d %s, want %d %s", tc.err, rec.Code, body.Tag, tc.code, tc.tag)
		}
	}
}
